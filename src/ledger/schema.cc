#include "ledger/schema.h"

#include <algorithm>

namespace cc {

PayloadSchema& PayloadSchema::String(std::string name, size_t max_len, bool required) {
  fields_.push_back({std::move(name), Kind::kString, required, 1, max_len, {}});
  return *this;
}
PayloadSchema& PayloadSchema::Hex(std::string name, size_t bytes, bool required) {
  fields_.push_back({std::move(name), Kind::kHex, required, bytes, bytes, {}});
  return *this;
}
PayloadSchema& PayloadSchema::Enum(std::string name, std::vector<std::string> values, bool required) {
  fields_.push_back({std::move(name), Kind::kEnum, required, 0, 0, std::move(values)});
  return *this;
}
PayloadSchema& PayloadSchema::UInt(std::string name, uint64_t min, uint64_t max, bool required) {
  fields_.push_back({std::move(name), Kind::kUInt, required, min, max, {}});
  return *this;
}
PayloadSchema& PayloadSchema::Int(std::string name, int64_t min, int64_t max, bool required) {
  Field f{std::move(name), Kind::kInt, required};
  f.imin = min;
  f.imax = max;
  fields_.push_back(std::move(f));
  return *this;
}
PayloadSchema& PayloadSchema::Id(std::string name, bool required) {
  fields_.push_back({std::move(name), Kind::kId, required, 1, 64, {}});
  return *this;
}

PayloadSchema& PayloadSchema::Bool(std::string name, bool required) {
  fields_.push_back({std::move(name), Kind::kBool, required, 0, 0, {}});
  return *this;
}
PayloadSchema& PayloadSchema::IdList(std::string name, size_t max_items, bool required) {
  fields_.push_back({std::move(name), Kind::kIdList, required, 1, max_items, {}});
  return *this;
}
PayloadSchema& PayloadSchema::HexList(std::string name, size_t bytes, size_t max_items, bool required) {
  fields_.push_back({std::move(name), Kind::kHexList, required, max_items, bytes, {}});
  return *this;
}
PayloadSchema& PayloadSchema::Objects(std::string name, PayloadSchema item, size_t max_items, bool required) {
  Field f{std::move(name), Kind::kObjects, required, 1, max_items, {}};
  f.item = std::make_shared<const PayloadSchema>(std::move(item));
  fields_.push_back(std::move(f));
  return *this;
}

static bool IsHexLower(const std::string& s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

static bool IsId(const std::string& s) {
  return !s.empty() && s.size() <= 64 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
         });
}

Status PayloadSchema::Check(const nlohmann::json& p) const {
  if (!p.is_object()) return Status::Invalid("payload must be an object");
  for (const auto& [key, _] : p.items()) {
    bool known = std::any_of(fields_.begin(), fields_.end(),
                             [&name = key](const Field& f) { return f.name == name; });
    if (!known) return Status::Invalid("unknown field '" + key + "'");
  }
  for (const Field& f : fields_) {
    auto it = p.find(f.name);
    if (it == p.end()) {
      if (f.required) return Status::Invalid("missing field '" + f.name + "'");
      continue;
    }
    const auto& v = *it;
    switch (f.kind) {
      case Kind::kString: {
        if (!v.is_string()) return Status::Invalid("field '" + f.name + "' must be a string");
        size_t n = v.get_ref<const std::string&>().size();
        if (n < f.min || n > f.max)
          return Status::Invalid("field '" + f.name + "' must be 1 to " + std::to_string(f.max) + " bytes");
        break;
      }
      case Kind::kHex: {
        if (!v.is_string() || v.get_ref<const std::string&>().size() != 2 * f.max ||
            !IsHexLower(v.get_ref<const std::string&>()))
          return Status::Invalid("field '" + f.name + "' must be " + std::to_string(2 * f.max) +
                                 " lower-case hex digits");
        break;
      }
      case Kind::kEnum: {
        if (!v.is_string() ||
            std::find(f.values.begin(), f.values.end(), v.get<std::string>()) == f.values.end()) {
          std::string all;
          for (const auto& s : f.values) all += (all.empty() ? "" : ", ") + s;
          return Status::Invalid("field '" + f.name + "' must be one of: " + all);
        }
        break;
      }
      case Kind::kUInt: {
        if (!v.is_number_unsigned() || v.get<uint64_t>() < f.min || v.get<uint64_t>() > f.max)
          return Status::Invalid("field '" + f.name + "' must be an integer in [" +
                                 std::to_string(f.min) + ", " + std::to_string(f.max) + "]");
        break;
      }
      case Kind::kInt: {
        if (!v.is_number_integer() || (v.is_number_unsigned() && v.get<uint64_t>() > uint64_t(INT64_MAX)) ||
            v.get<int64_t>() < f.imin || v.get<int64_t>() > f.imax)
          return Status::Invalid("field '" + f.name + "' must be an integer in [" + std::to_string(f.imin) +
                                 ", " + std::to_string(f.imax) + "]");
        break;
      }
      case Kind::kId: {
        if (!v.is_string() || !IsId(v.get<std::string>()))
          return Status::Invalid("field '" + f.name + "' must be 1 to 64 of [a-z0-9._-]");
        break;
      }
      case Kind::kBool:
        if (!v.is_boolean()) return Status::Invalid("field '" + f.name + "' must be true or false");
        break;
      case Kind::kIdList:
      case Kind::kHexList: {
        const bool hex = f.kind == Kind::kHexList;
        const uint64_t max_items = hex ? f.min : f.max;
        if (!v.is_array() || v.empty() || v.size() > max_items)
          return Status::Invalid("field '" + f.name + "' must be a list of 1 to " + std::to_string(max_items) +
                                 " items");
        std::vector<std::string> seen;
        for (const auto& e : v) {
          bool good = e.is_string() && (hex ? e.get_ref<const std::string&>().size() == 2 * f.max &&
                                                  IsHexLower(e.get_ref<const std::string&>())
                                            : IsId(e.get_ref<const std::string&>()));
          if (!good) {
            return Status::Invalid("field '" + f.name + "' items must be " +
                                   (hex ? std::to_string(2 * f.max) + " lower-case hex digits"
                                        : std::string("1 to 64 of [a-z0-9._-]")));
          }
          seen.push_back(e.get<std::string>());
        }
        std::sort(seen.begin(), seen.end());
        if (std::adjacent_find(seen.begin(), seen.end()) != seen.end())
          return Status::Invalid("field '" + f.name + "' lists an item twice");
        break;
      }
      case Kind::kObjects: {
        if (!v.is_array() || v.empty() || v.size() > f.max)
          return Status::Invalid("field '" + f.name + "' must be a list of 1 to " + std::to_string(f.max) +
                                 " objects");
        for (size_t i = 0; i < v.size(); ++i) {
          Status s = f.item->Check(v[i]);
          if (!s.ok()) return Status::Invalid(f.name + "[" + std::to_string(i) + "]: " + s.message());
        }
        break;
      }
    }
  }
  return Status::Ok();
}

}  // namespace cc
