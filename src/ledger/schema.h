// Declarative payload schemas for module actions: every field named, typed
// and bounded; unknown fields are refused.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "util/status.h"

namespace cc {

class PayloadSchema {
 public:
  // A UTF-8 string of 1..max_len bytes.
  PayloadSchema& String(std::string name, size_t max_len, bool required = true);
  // Exactly `bytes` bytes as lower-case hex.
  PayloadSchema& Hex(std::string name, size_t bytes, bool required = true);
  // One of `values`.
  PayloadSchema& Enum(std::string name, std::vector<std::string> values, bool required = true);
  PayloadSchema& UInt(std::string name, uint64_t min, uint64_t max, bool required = true);
  // A signed integer in [min, max].
  PayloadSchema& Int(std::string name, int64_t min, int64_t max, bool required = true);
  // An identifier: 1..64 of [a-z0-9._-].
  PayloadSchema& Id(std::string name, bool required = true);
  PayloadSchema& Bool(std::string name, bool required = true);
  // A list of 1..max_items distinct identifiers / hex strings of `bytes` bytes.
  PayloadSchema& IdList(std::string name, size_t max_items, bool required = true);
  PayloadSchema& HexList(std::string name, size_t bytes, size_t max_items, bool required = true);
  // A list of 1..max_items objects, each checked by `item`.
  PayloadSchema& Objects(std::string name, PayloadSchema item, size_t max_items, bool required = true);

  Status Check(const nlohmann::json& payload) const;

 private:
  enum class Kind { kString, kHex, kEnum, kUInt, kInt, kId, kBool, kIdList, kHexList, kObjects };
  struct Field {
    std::string name;
    Kind kind;
    bool required;
    uint64_t min = 0, max = 0;  // kHexList: max = bytes, min = max items
    std::vector<std::string> values;
    std::shared_ptr<const PayloadSchema> item;  // kObjects
    int64_t imin = 0, imax = 0;  // kInt
  };
  std::vector<Field> fields_;
};

}  // namespace cc
