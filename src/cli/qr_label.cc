#include "cli/qr_label.h"

#include <png.h>
#include <qrencode.h>

#include <cerrno>
#include <cstring>
#include <memory>

namespace cc::cli {
namespace {

struct FreeQrInput {
  void operator()(QRinput* in) const { QRinput_free(in); }
};
struct FreeQrCode {
  void operator()(QRcode* q) const { QRcode_free(q); }
};
using QrInputPtr = std::unique_ptr<QRinput, FreeQrInput>;
using QrCodePtr = std::unique_ptr<QRcode, FreeQrCode>;

// Encodes `text` as bytes, after the FNC1-first mode indicator if `gs1`.
// Null with errno set on failure.
QrCodePtr Encode(std::string_view text, bool gs1) {
  QrInputPtr in(QRinput_new2(/*version=*/0, QR_ECLEVEL_M));
  if (!in) return nullptr;
  if (gs1 && QRinput_setFNC1First(in.get()) != 0) return nullptr;
  if (QRinput_append(in.get(), QR_MODE_8, static_cast<int>(text.size()),
                     reinterpret_cast<const unsigned char*>(text.data())) != 0)
    return nullptr;
  return QrCodePtr(QRcode_encodeInput(in.get()));
}

}  // namespace

std::string LabelText(const supply::PackCode& code, LabelForm form, std::string_view resolver) {
  return form == LabelForm::kDigitalLink ? supply::ToDigitalLink(code, resolver)
                                         : supply::ToElementString(code);
}

bool QrWritesGs1Mode() {
  // libqrencode up to 4.1.1 refuses every input once FNC1-first is set (its
  // own check rejects the empty mode header); ask rather than trust a version.
  static const bool writes = Encode("0109506000134352", /*gs1=*/true) != nullptr;
  return writes;
}

std::string QrLibraryVersion() { return QRcode_APIVersionString(); }

Result<QrMatrix> EncodeQr(std::string_view text, bool gs1) {
  if (text.empty()) return Status::Invalid("QR code: nothing to encode");
  if (gs1 && !QrWritesGs1Mode()) {
    return Status::Invalid(
        "libqrencode " + QrLibraryVersion() +
        " cannot write a GS1 QR Code (FNC1 in first position); use the Digital Link form");
  }
  errno = 0;
  QrCodePtr q = Encode(text, gs1);
  if (!q) {
    if (errno == ERANGE)
      return Status::TooLarge("QR code: " + std::to_string(text.size()) +
                              " bytes do not fit in a QR code");
    return Status::Internal(std::string("QR code: libqrencode failed: ") + std::strerror(errno));
  }
  QrMatrix m;
  m.size = q->width;
  m.dark.resize(static_cast<size_t>(q->width) * q->width);
  // Bit 0 of each byte is the module's colour; the others are libqrencode's
  // notes on what the module is part of.
  for (size_t i = 0; i < m.dark.size(); ++i) m.dark[i] = q->data[i] & 1;
  return m;
}

Result<std::string> ToPng(const QrMatrix& qr, int scale) {
  const int side = (qr.size + 2 * kQuietZone) * scale;
  std::vector<png_byte> pixels(static_cast<size_t>(side) * side, 0xff);
  for (int y = 0; y < qr.size; ++y) {
    for (int x = 0; x < qr.size; ++x) {
      if (!qr.Dark(x, y)) continue;
      for (int dy = 0; dy < scale; ++dy) {
        png_byte* row = &pixels[static_cast<size_t>((y + kQuietZone) * scale + dy) * side];
        std::memset(row + (x + kQuietZone) * scale, 0, scale);
      }
    }
  }
  // libpng's simplified API: no setjmp, errors come back in image.message.
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  image.width = static_cast<png_uint_32>(side);
  image.height = static_cast<png_uint_32>(side);
  image.format = PNG_FORMAT_GRAY;
  png_alloc_size_t bytes = 0;
  if (!png_image_write_to_memory(&image, nullptr, &bytes, /*convert_to_8bit=*/0, pixels.data(),
                                 /*row_stride=*/0,
                                 /*colormap=*/nullptr))
    return Status::Internal(std::string("PNG: ") + image.message);
  std::string out(bytes, '\0');
  if (!png_image_write_to_memory(&image, out.data(), &bytes, 0, pixels.data(), 0, nullptr))
    return Status::Internal(std::string("PNG: ") + image.message);
  out.resize(bytes);
  return out;
}

std::string ToSvg(const QrMatrix& qr, int scale) {
  const int side = qr.size + 2 * kQuietZone;
  const std::string px = std::to_string(side * scale);
  std::string path;
  // One sub-path per horizontal run of dark modules: "M x y h n v 1 h -n z".
  for (int y = 0; y < qr.size; ++y) {
    for (int x = 0; x < qr.size;) {
      if (!qr.Dark(x, y)) {
        ++x;
        continue;
      }
      int run = 1;
      while (x + run < qr.size && qr.Dark(x + run, y)) ++run;
      path += "M" + std::to_string(x + kQuietZone) + " " + std::to_string(y + kQuietZone) + "h" +
              std::to_string(run) + "v1h-" + std::to_string(run) + "z";
      x += run;
    }
  }
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
         "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" +
         px + "\" height=\"" + px + "\" viewBox=\"0 0 " + std::to_string(side) + " " +
         std::to_string(side) +
         "\" shape-rendering=\"crispEdges\">\n"
         "<rect width=\"" +
         std::to_string(side) + "\" height=\"" + std::to_string(side) +
         "\" fill=\"#fff\"/>\n"
         "<path fill=\"#000\" d=\"" +
         path +
         "\"/>\n"
         "</svg>\n";
}

}  // namespace cc::cli
