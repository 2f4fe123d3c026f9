#include "apps/wearables/summary.h"

#include "apps/wearables/rules.h"
#include "codec/varint.h"

namespace cc::wearables {
namespace {

uint64_t ZigZag(int64_t v) { return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63); }
int64_t UnZigZag(uint64_t v) { return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1); }

}  // namespace

void DaySummary::Add(int64_t milli, int64_t step_milli) {
  ++count;
  sum_milli += milli;
  ++bins[FloorDiv(milli, step_milli)];
}

void DaySummary::Merge(const DaySummary& o) {
  count += o.count;
  sum_milli += o.sum_milli;
  for (const auto& [b, n] : o.bins) bins[b] += n;
}

// count, zigzag(sum), number of bins, then per bin zigzag(delta from the
// previous bin) and its count.
std::string DaySummary::Encode() const {
  codec::Writer w;
  w.Varint(count).Varint(ZigZag(sum_milli)).Varint(bins.size());
  int64_t prev = 0;
  for (const auto& [b, n] : bins) {
    w.Varint(ZigZag(b - prev)).Varint(n);
    prev = b;
  }
  return w.Take();
}

Result<DaySummary> DaySummary::Decode(std::string_view bytes) {
  codec::Reader r(bytes);
  DaySummary s;
  uint64_t sum = 0, n = 0;
  CC_RETURN_IF_ERROR(r.Varint("count", &s.count));
  CC_RETURN_IF_ERROR(r.Varint("sum", &sum));
  CC_RETURN_IF_ERROR(r.Varint("bins", &n));
  s.sum_milli = UnZigZag(sum);
  if (n > bytes.size()) return Status::Invalid("summary: more bins than bytes");
  int64_t prev = 0;
  uint64_t total = 0;
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t delta = 0, c = 0;
    CC_RETURN_IF_ERROR(r.Varint("bin", &delta));
    CC_RETURN_IF_ERROR(r.Varint("bin count", &c));
    const int64_t b = prev + UnZigZag(delta);
    if ((i > 0 && b <= prev) || c == 0) return Status::Invalid("summary: bins out of order or empty");
    s.bins.emplace_hint(s.bins.end(), b, c);
    total += c;
    prev = b;
  }
  CC_RETURN_IF_ERROR(r.Finish());
  if (total != s.count) return Status::Invalid("summary: bin counts do not add up to the count");
  return s;
}

std::map<std::pair<uint8_t, uint64_t>, DaySummary> SummarizeDays(const std::vector<Reading>& readings) {
  std::map<std::pair<uint8_t, uint64_t>, DaySummary> out;
  const auto& metrics = Metrics();
  for (const auto& r : readings) out[{r.metric, r.t / kDayMs}].Add(r.milli, metrics[r.metric].step_milli);
  return out;
}

int64_t ValueAtRank(const std::map<int64_t, uint64_t>& bins, int64_t step_milli, uint64_t rank) {
  uint64_t seen = 0;
  for (const auto& [b, n] : bins) {
    seen += n;
    if (rank < seen) return b * step_milli;
  }
  return bins.empty() ? 0 : bins.rbegin()->first * step_milli;
}

}  // namespace cc::wearables
