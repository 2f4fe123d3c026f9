// The canonical binary encoding's primitives. Every varint and fixed-width
// helper of the project lives here; docs/formats.md specifies the layout.
//
//   varint  unsigned LEB128, at most 10 bytes, minimal: no trailing 0x00 group
//           (so every number has exactly one encoding) and no overflow of 64 bits
//   u8      one byte
//   fixedN  N raw bytes (keys, hashes, signatures)
//   bytes   varint length, then that many bytes
//
// A Reader refuses non-minimal varints, lengths past the end or past a given
// limit, and (through Finish) trailing bytes: a decoder built on it accepts
// exactly one encoding of each value.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "util/bytes.h"
#include "util/status.h"

namespace cc::codec {

void AppendVarint(std::string* out, uint64_t v);

class Writer {
 public:
  Writer& U8(uint8_t v) { out_.push_back(static_cast<char>(v)); return *this; }
  Writer& Varint(uint64_t v) { AppendVarint(&out_, v); return *this; }
  Writer& Fixed(ByteView b) { out_.append(AsChars(b)); return *this; }
  Writer& Bytes(std::string_view b) { Varint(b.size()); out_.append(b); return *this; }
  Writer& Bytes(ByteView b) { return Bytes(AsChars(b)); }

  const std::string& data() const { return out_; }
  std::string Take() { return std::move(out_); }

 private:
  std::string out_;
};

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  explicit Reader(ByteView in) : in_(AsChars(in)) {}

  // Each getter fails with kInvalidArgument naming `field`.
  Status U8(const char* field, uint8_t* out);
  Status Varint(const char* field, uint64_t* out);
  Status Fixed(const char* field, size_t n, std::string_view* out);
  Status Bytes(const char* field, size_t max_len, std::string_view* out);
  // Fails if any input is left.
  Status Finish() const;

  size_t remaining() const { return in_.size() - pos_; }
  size_t position() const { return pos_; }

 private:
  std::string_view in_;
  size_t pos_ = 0;
};

}  // namespace cc::codec
