// The QR code printed on a medicine pack (`carechain supply label`,
// docs/modules/supply.md): what it carries, the symbol, and the symbol as a
// PNG or an SVG image. Only qr_label.cc includes libqrencode and libpng.
//
// Pure functions of their arguments (no files, no clock); thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "apps/supply/gs1.h"
#include "util/status.h"

namespace cc::cli {

// White modules around the symbol on every side, as ISO/IEC 18004 asks.
inline constexpr int kQuietZone = 4;

// A QR symbol's modules, row by row, without the quiet zone.
struct QrMatrix {
  int size = 0;            // modules per side
  std::vector<bool> dark;  // size * size, row-major

  bool Dark(int x, int y) const { return dark[static_cast<size_t>(y) * size + x]; }
};

enum class LabelForm {
  kDigitalLink,    // the GS1 Digital Link URI: any phone camera opens it
  kElementString,  // the GS1 element string, for a GS1 QR Code (FNC1 first)
};

// What a pack's label carries: ToDigitalLink(code, resolver) or
// ToElementString(code) (GS between fields, no symbology identifier).
std::string LabelText(const supply::PackCode& code, LabelForm form, std::string_view resolver);

// Encodes `text` as a QR code, error correction level M, the smallest
// version it fits. With `gs1`, in FNC1-first mode (a GS1 QR Code: a GS in
// `text` is the FNC1 field separator). Fails, saying why, when `text` does
// not fit in a QR code or when this libqrencode cannot write FNC1-first mode
// (4.1.1, Debian 12's, cannot).
Result<QrMatrix> EncodeQr(std::string_view text, bool gs1);

// Whether this libqrencode writes FNC1-first mode, and its version.
bool QrWritesGs1Mode();
std::string QrLibraryVersion();

// A PNG image (8-bit grey, black on white): `scale` pixels per module, the
// quiet zone included, so (size + 8) * scale pixels square.
// REQUIRES: 1 <= scale <= 64.
Result<std::string> ToPng(const QrMatrix& qr, int scale);

// An SVG image: one path over a white background in module units (the
// quiet zone included) with crisp edges, (size + 8) * scale pixels square.
// REQUIRES: 1 <= scale <= 64.
std::string ToSvg(const QrMatrix& qr, int scale);

}  // namespace cc::cli
