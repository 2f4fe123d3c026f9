#include "cli/qr_label.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <png.h>

namespace cc::cli {
namespace {

const supply::PackCode kPack{"09506000134352", "S/1", "B1", "301231"};

// A finder pattern's 7x7 rings (dark, light, dark 3x3) at (x0, y0).
bool FinderAt(const QrMatrix& m, int x0, int y0) {
  for (int y = 0; y < 7; ++y) {
    for (int x = 0; x < 7; ++x) {
      const int ring = std::max(std::abs(x - 3), std::abs(y - 3));
      if (m.Dark(x0 + x, y0 + y) != (ring != 2)) return false;
    }
  }
  return true;
}

TEST(QrLabel, LabelTextIsTheDigitalLinkOrTheElementString) {
  EXPECT_EQ(LabelText(kPack, LabelForm::kDigitalLink, "https://id.gs1.org"),
            "https://id.gs1.org/01/09506000134352/10/B1/21/S%2F1?17=301231");
  EXPECT_EQ(LabelText(kPack, LabelForm::kDigitalLink, "https://example.com/dl"),
            "https://example.com/dl/01/09506000134352/10/B1/21/S%2F1?17=301231");
  EXPECT_EQ(LabelText(kPack, LabelForm::kElementString, ""),
            "010950600013435217301231"
            "10B1\x1d"
            "21S/1");
}

TEST(QrLabel, EncodesTheSmallestVersionWithFinderPatterns) {
  // 42 bytes: exactly the byte capacity of version 3 at level M.
  const std::string text = "https://id.gs1.org/01/09506000134352/21/S1";
  ASSERT_EQ(text.size(), 42u);
  auto m = EncodeQr(text, /*gs1=*/false);
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_EQ(m->size, 17 + 4 * 3);
  ASSERT_EQ(m->dark.size(), static_cast<size_t>(m->size * m->size));
  EXPECT_TRUE(FinderAt(*m, 0, 0));
  EXPECT_TRUE(FinderAt(*m, m->size - 7, 0));
  EXPECT_TRUE(FinderAt(*m, 0, m->size - 7));
  EXPECT_FALSE(FinderAt(*m, m->size - 7, m->size - 7));
  // One byte more needs version 4.
  auto bigger = EncodeQr(text + "0", false);
  ASSERT_TRUE(bigger.ok());
  EXPECT_EQ(bigger->size, 17 + 4 * 4);
}

TEST(QrLabel, RefusesEmptyAndOversizedText) {
  EXPECT_FALSE(EncodeQr("", false).ok());
  auto r = EncodeQr(std::string(3000, 'x'), false);  // level M holds at most 2331 bytes
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kTooLarge);
  EXPECT_NE(r.status().message().find("3000 bytes do not fit"), std::string::npos)
      << r.status().message();
}

TEST(QrLabel, Gs1ModeIsWrittenOrRefusedWithTheReason) {
  const std::string element = LabelText(kPack, LabelForm::kElementString, "");
  auto gs1 = EncodeQr(element, /*gs1=*/true);
  if (QrWritesGs1Mode()) {
    // The FNC1-first mode indicator changes the data bits.
    ASSERT_TRUE(gs1.ok()) << gs1.status().message();
    auto plain = EncodeQr(element, false);
    ASSERT_TRUE(plain.ok());
    EXPECT_NE(gs1->dark, plain->dark);
  } else {
    // Debian 12's libqrencode 4.1.1 cannot (docs/modules/supply.md).
    ASSERT_FALSE(gs1.ok());
    EXPECT_EQ(gs1.status().message(),
              "libqrencode " + QrLibraryVersion() +
                  " cannot write a GS1 QR Code (FNC1 in first position); use the "
                  "Digital Link form");
  }
}

TEST(QrLabel, PngHasOneSquareOfPixelsPerModuleAndAQuietZone) {
  auto m = EncodeQr("https://id.gs1.org/01/09506000134352/21/S1", false);
  ASSERT_TRUE(m.ok());
  const int scale = 3;
  auto png = ToPng(*m, scale);
  ASSERT_TRUE(png.ok()) << png.status().message();
  ASSERT_EQ(png->substr(0, 8), "\x89PNG\r\n\x1a\n");

  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  ASSERT_TRUE(png_image_begin_read_from_memory(&image, png->data(), png->size())) << image.message;
  image.format = PNG_FORMAT_GRAY;
  const int side = (m->size + 2 * kQuietZone) * scale;
  ASSERT_EQ(image.width, static_cast<png_uint_32>(side));
  ASSERT_EQ(image.height, static_cast<png_uint_32>(side));
  std::vector<png_byte> pixels(PNG_IMAGE_SIZE(image));
  ASSERT_TRUE(png_image_finish_read(&image, nullptr, pixels.data(), 0, nullptr)) << image.message;
  int mismatches = 0;
  for (int py = 0; py < side; ++py) {
    for (int px = 0; px < side; ++px) {
      const int x = px / scale - kQuietZone, y = py / scale - kQuietZone;
      const bool inside = x >= 0 && y >= 0 && x < m->size && y < m->size;
      const png_byte want = inside && m->Dark(x, y) ? 0 : 255;
      mismatches += pixels[static_cast<size_t>(py) * side + px] != want;
    }
  }
  EXPECT_EQ(mismatches, 0);
}

TEST(QrLabel, SvgIsOnePathThatRedrawsTheModules) {
  auto m = EncodeQr("https://id.gs1.org/01/09506000134352/21/S1", false);
  ASSERT_TRUE(m.ok());
  const std::string svg = ToSvg(*m, 5);
  const int side = m->size + 2 * kQuietZone;
  EXPECT_NE(svg.find("width=\"" + std::to_string(side * 5) + "\""), std::string::npos);
  EXPECT_NE(svg.find("viewBox=\"0 0 " + std::to_string(side) + " " + std::to_string(side) + "\""),
            std::string::npos);
  EXPECT_NE(svg.find("shape-rendering=\"crispEdges\""), std::string::npos);
  size_t first = svg.find("<path"), last = svg.rfind("<path");
  ASSERT_NE(first, std::string::npos);
  EXPECT_EQ(first, last) << "one path";

  // Paint the runs back and compare with the modules.
  std::vector<bool> painted(m->dark.size(), false);
  const size_t d = svg.find(" d=\"", first) + 4;
  const std::string path = svg.substr(d, svg.find('"', d) - d);
  // Runs "M<x> <y>h<n>v1h-<n>z", one after the other (sscanf, not <regex>:
  // GCC's -O2 sanitizer build warns inside <regex>).
  size_t consumed = 0;
  while (consumed < path.size()) {
    int x = 0, y = 0, n = 0, back = 0, len = 0;
    ASSERT_EQ(std::sscanf(path.c_str() + consumed, "M%d %dh%dv1h-%dz%n", &x, &y, &n, &back, &len), 4)
        << path.substr(consumed, 40);
    ASSERT_GT(len, 0);
    x -= kQuietZone;
    y -= kQuietZone;
    ASSERT_EQ(n, back);
    ASSERT_TRUE(x >= 0 && y >= 0 && n > 0 && x + n <= m->size && y < m->size) << path.substr(consumed, 40);
    for (int i = 0; i < n; ++i) painted[static_cast<size_t>(y) * m->size + x + i] = true;
    consumed += static_cast<size_t>(len);
  }
  EXPECT_EQ(consumed, path.size()) << "nothing but runs in the path";
  EXPECT_EQ(painted, m->dark);
}

}  // namespace
}  // namespace cc::cli
