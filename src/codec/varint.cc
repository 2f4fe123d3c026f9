#include "codec/varint.h"

namespace cc::codec {

void AppendVarint(std::string* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

static Status Truncated(const char* field) {
  return Status::Invalid(std::string("truncated input at ") + field);
}

Status Reader::U8(const char* field, uint8_t* out) {
  if (remaining() < 1) return Truncated(field);
  *out = static_cast<uint8_t>(in_[pos_++]);
  return Status::Ok();
}

Status Reader::Varint(const char* field, uint64_t* out) {
  uint64_t v = 0;
  for (int i = 0; i < 10; ++i) {
    if (pos_ >= in_.size()) return Truncated(field);
    uint8_t b = static_cast<uint8_t>(in_[pos_++]);
    uint64_t bits = b & 0x7f;
    if (i == 9 && b > 0x01) return Status::Invalid(std::string("varint overflow at ") + field);
    v |= bits << (7 * i);
    if (!(b & 0x80)) {
      if (i > 0 && b == 0) return Status::Invalid(std::string("non-minimal varint at ") + field);
      *out = v;
      return Status::Ok();
    }
  }
  return Status::Invalid(std::string("varint too long at ") + field);
}

Status Reader::Fixed(const char* field, size_t n, std::string_view* out) {
  if (remaining() < n) return Truncated(field);
  *out = in_.substr(pos_, n);
  pos_ += n;
  return Status::Ok();
}

Status Reader::Bytes(const char* field, size_t max_len, std::string_view* out) {
  uint64_t len;
  CC_RETURN_IF_ERROR(Varint(field, &len));
  if (len > max_len) {
    return Status::TooLarge(std::string(field) + " is " + std::to_string(len) +
                            " bytes, limit " + std::to_string(max_len));
  }
  return Fixed(field, static_cast<size_t>(len), out);
}

Status Reader::Finish() const {
  if (remaining() != 0) {
    return Status::Invalid(std::to_string(remaining()) + " trailing bytes after the encoding");
  }
  return Status::Ok();
}

}  // namespace cc::codec
