#include "offchain/gatekeeper.h"

#include <spdlog/spdlog.h>

#include <filesystem>

#include "apps/identity/identity.h"
#include "apps/records/keys.h"
#include "crypto/keys.h"

namespace cc::offchain {
namespace {

std::string KeyContext(std::string_view rid) { return "carechain:record-key:" + std::string(rid); }
std::string ContentContext(std::string_view rid) { return "carechain:record:" + std::string(rid); }

}  // namespace

Result<AeadKey> LoadOrCreateMasterKey(const std::string& path) {
  if (!std::filesystem::exists(path)) {
    AeadKey k = AeadKey::Generate();
    std::string hex = ToHex(AsBytes(k.bytes())) + "\n";
    Status s = WriteFileAtomic(path, hex, 0600, /*overwrite=*/false);
    Wipe(hex.data(), hex.size());
    if (!s.ok() && s.code() != Code::kAlreadyExists) return s;
  }
  CC_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  auto raw = FromHex(text);
  Wipe(text.data(), text.size());
  if (!raw || raw->size() != AeadKey::kSize)
    return Status::Corruption("the master key file " + path + " must hold 64 hex digits");
  auto k = AeadKey::FromBytes(AsChars(*raw));
  Wipe(raw->data(), raw->size());
  return k;
}

Gatekeeper::Gatekeeper(RecordStore* store, const StateReader* state, AeadKey master, GatekeeperOptions options,
                       Clock* clock, const records::ConsentView* consents)
    : store_(store),
      state_(state),
      state_view_(state),
      consents_(consents ? consents : &state_view_),
      master_(std::move(master)),
      options_(std::move(options)),
      clock_(clock) {}

Gatekeeper::~Gatekeeper() { Stop(); }

void Gatekeeper::Start(admission::Admission* admission) {
  admission_ = admission;
  flusher_ = std::thread([this] { FlushLoop(); });
}

void Gatekeeper::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (flusher_.joinable()) flusher_.join();
}

Result<Published> Gatekeeper::Store(const NewRecord& r) {
  auto patient = identity::LookupActor(*state_, r.patient);
  if (!patient || !patient->active || patient->role != "patient")
    return Status::NotFound("the patient is not a registered, active patient");
  if (!admission_) return Status::Unavailable("the gatekeeper is not started");
  StoredRecord row;
  row.id = RandomHex(16);
  row.media_type = r.media_type;
  row.salt.resize(32);
  RandomBytes(reinterpret_cast<uint8_t*>(row.salt.data()), row.salt.size());
  const AeadKey key = AeadKey::Generate();
  row.ciphertext = Seal(key, r.content, ContentContext(row.id));
  row.sealed_key = Seal(master_, key.bytes(), KeyContext(row.id));
  const Hash256 hash = SaltedHash(row.salt, r.content);
  nlohmann::json pointer = {{"record", row.id},
                            {"patient", r.patient.hex()},
                            {"resource_type", r.resource_type},
                            {"category", r.category},
                            {"content_hash", hash.hex()}};
  CC_ASSIGN_OR_RETURN(TxId tx, admission_->SubmitAsNode(records::kModule, "publish", pointer));
  Status s = store_->Put(row);
  if (!s.ok()) {
    spdlog::error("record {} published in tx {} but not stored: {}", row.id, tx.hex(), s.ToString());
    return s;
  }
  return Published{row.id, tx, hash};
}

Status Gatekeeper::Log(const Reader& reader, std::string_view rid, std::string_view purpose,
                       const records::Decision& d, bool allowed) {
  nlohmann::json e = {{"id", RandomHex(16)},
                      {"record", std::string(rid)},
                      {"reader", reader.key.hex()},
                      {"purpose", std::string(purpose)},
                      {"at", clock_->NowMs()},
                      {"outcome", allowed ? "allowed" : "denied"},
                      {"emergency", d.emergency}};
  if (!d.consent.empty()) e["consent"] = d.consent;
  if (!allowed) e["reason"] = d.reason;
  return Append({e["id"], "access", e.dump()});
}

Status Gatekeeper::Append(OutboxEntry e) {
  std::unique_lock<std::mutex> lock(log_mu_);
  const uint64_t ticket = ++log_enqueued_;
  log_queue_.push_back(std::move(e));
  while (log_durable_ < ticket) {
    if (log_writing_) {
      log_cv_.wait(lock);
      continue;
    }
    log_writing_ = true;
    std::vector<OutboxEntry> group = std::move(log_queue_);
    log_queue_.clear();
    const uint64_t last = log_enqueued_;
    lock.unlock();
    Status s = store_->AddOutbox(group);
    lock.lock();
    log_writing_ = false;
    log_durable_ = last;
    log_results_.emplace_back(last, std::move(s));
    if (log_results_.size() > 4096) log_results_.pop_front();
    log_cv_.notify_all();
  }
  for (const auto& [last, s] : log_results_) {
    if (last >= ticket) return s;
  }
  return Status::Internal("the outcome of an access entry's write was lost");
}

Result<Served> Gatekeeper::Fetch(const Reader& reader, std::string_view rid, std::string_view purpose) {
  records::Decision d = records::Decide(*consents_, {reader.key, reader.org, rid, purpose, clock_->NowMs()});
  if (d.verdict == records::Verdict::kUnknownRecord) return Status::NotFound("no record " + std::string(rid));
  const std::string& custodian = d.record->custodian;
  if (custodian != options_.org) {
    return Status::Precondition("record " + std::string(rid) + " is held by custodian '" + custodian +
                                "'; fetch it from that organisation's node");
  }
  if (d.verdict == records::Verdict::kErased) return Status::Precondition("erased: " + d.reason);
  if (!d.allowed()) {
    CC_RETURN_IF_ERROR(Log(reader, rid, purpose, d, false));
    return Status::Denied(d.reason);
  }
  auto row = store_->Get(rid);
  if (row.status().code() == Code::kNotFound) {
    return Status::Precondition("erased: the record's content was destroyed at the patient's request");
  }
  if (!row.ok()) return row.status();
  auto key_bytes = Open(master_, row->sealed_key, KeyContext(rid));
  if (!key_bytes.ok()) return Status::Corruption("record " + std::string(rid) + ": its key does not open");
  auto key = AeadKey::FromBytes(*key_bytes);
  Wipe(key_bytes->data(), key_bytes->size());
  if (!key.ok()) return Status::Corruption("record " + std::string(rid) + ": its key is malformed");
  auto content = Open(*key, row->ciphertext, ContentContext(rid));
  if (!content.ok()) return Status::Corruption("record " + std::string(rid) + ": its content does not open");
  if (SaltedHash(row->salt, *content).hex() != d.record->content_hash) {
    return Status::Corruption("record " + std::string(rid) + ": content does not match the hash on chain");
  }
  // No read without its audit entry: the entry is durable before the content leaves.
  CC_RETURN_IF_ERROR(Log(reader, rid, purpose, d, true));
  return Served{std::move(*content), row->media_type, std::move(d)};
}

Result<TxId> Gatekeeper::Erase(const PublicKey& requester, std::string_view rid) {
  auto raw = state_->Get(records::RecordKey(rid));
  if (!raw) return Status::NotFound("no record " + std::string(rid));
  auto pointer = records::ParseRecordInfo(*raw);
  if (!pointer) return Status::Corruption("record pointer " + std::string(rid) + " is unreadable");
  if (pointer->patient != requester.hex()) return Status::Denied("only the record's patient may ask for its erasure");
  if (pointer->custodian != options_.org) {
    return Status::Precondition("record " + std::string(rid) + " is held by custodian '" + pointer->custodian +
                                "'; ask that organisation's node");
  }
  if (pointer->erased) return Status::Precondition("the record is already erased");
  nlohmann::json receipt = {{"record", std::string(rid)}, {"requested_by", requester.hex()}};
  OutboxEntry entry{RandomHex(16), "erasure", receipt.dump()};
  Status s = store_->Erase(rid, entry);
  if (s.code() == Code::kNotFound) {
    // Destroyed already (a repeated request whose receipt is not yet on chain).
    s = store_->AddOutbox({entry});
  }
  CC_RETURN_IF_ERROR(s);
  // The content is gone from here on; only the receipt may wait.
  if (Status f = Flush().status(); !f.ok()) {
    return Status::Unavailable("the record's content is destroyed; its erasure receipt is queued and will be "
                               "sent when the node accepts transactions again (" + f.message() + ")");
  }
  std::lock_guard<std::mutex> lock(mu_);
  auto it = sent_ids_.find(entry.id);
  if (it == sent_ids_.end()) return Status::Unavailable("the record's content is destroyed; its erasure receipt is queued");
  return it->second;
}

Result<size_t> Gatekeeper::Flush() {
  if (!admission_) return Status::Unavailable("the gatekeeper is not started");
  std::lock_guard<std::mutex> flush_lock(flush_mu_);
  CC_ASSIGN_OR_RETURN(auto entries, store_->ListOutbox(10 * options_.max_entries_per_tx));
  const uint64_t now = clock_->NowMs();
  std::vector<OutboxEntry> todo;
  {
    std::lock_guard<std::mutex> lock(mu_);
    // Batches sent long ago and never committed (dropped by a restart of
    // the orderer, say) are sent again.
    for (auto it = sent_.begin(); it != sent_.end();) {
      if (now - it->second.at_ms < options_.resend_after_ms) {
        ++it;
        continue;
      }
      for (const auto& id : it->second.entries) sent_ids_.erase(id);
      it = sent_.erase(it);
    }
    for (auto& e : entries) {
      if (!sent_ids_.count(e.id)) todo.push_back(std::move(e));
    }
  }
  size_t sent = 0;
  auto submit = [&](std::string_view action, const nlohmann::json& payload, std::vector<std::string> ids) -> Status {
    auto tx = admission_->SubmitAsNode(records::kModule, action, payload);
    if (!tx.ok()) return tx.status();
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& id : ids) sent_ids_[id] = *tx;
    sent += ids.size();
    sent_[*tx] = Sent{std::move(ids), now};
    return Status::Ok();
  };
  nlohmann::json batch = nlohmann::json::array();
  std::vector<std::string> batch_ids;
  // A batch stays under the network's transaction size limit: entries are
  // their canonical JSON plus a comma; 1 KiB covers the envelope.
  const size_t budget = options_.max_tx_bytes > 2048 ? options_.max_tx_bytes - 1024 : 1024;
  size_t batch_bytes = 0;
  auto send_batch = [&]() -> Status {
    if (batch.empty()) return Status::Ok();
    Status s = submit("log_access", {{"entries", batch}}, std::move(batch_ids));
    batch = nlohmann::json::array();
    batch_ids.clear();
    batch_bytes = 0;
    return s;
  };
  for (const auto& e : todo) {
    auto payload = nlohmann::json::parse(e.payload, nullptr, false);
    if (!payload.is_object()) {
      spdlog::error("outbox entry {} is unreadable; dropping it", e.id);
      CC_RETURN_IF_ERROR(store_->RemoveOutbox({e.id}));
      continue;
    }
    if (e.kind == "erasure") {
      CC_RETURN_IF_ERROR(submit("erase", payload, {e.id}));
      continue;
    }
    if (batch_bytes + e.payload.size() + 1 > budget) CC_RETURN_IF_ERROR(send_batch());
    batch.push_back(std::move(payload));
    batch_ids.push_back(e.id);
    batch_bytes += e.payload.size() + 1;
    if (batch.size() == options_.max_entries_per_tx) CC_RETURN_IF_ERROR(send_batch());
  }
  CC_RETURN_IF_ERROR(send_batch());
  return sent;
}

void Gatekeeper::OnCommit(const BlockPtr& block) {
  std::vector<std::string> done;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (sent_.empty()) return;
    for (const auto& tx : block->txs()) {
      auto it = sent_.find(tx->id());
      if (it == sent_.end()) continue;
      for (auto& id : it->second.entries) {
        sent_ids_.erase(id);
        done.push_back(std::move(id));
      }
      sent_.erase(it);
    }
  }
  if (done.empty()) return;
  // Committed, whatever the result: a rejected entry would be rejected again.
  Status s = store_->RemoveOutbox(done);
  if (!s.ok()) spdlog::error("cannot remove {} delivered outbox entries: {}", done.size(), s.ToString());
}

size_t Gatekeeper::in_flight() const {
  std::lock_guard<std::mutex> lock(mu_);
  return sent_ids_.size();
}

void Gatekeeper::FlushLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    cv_.wait_for(lock, std::chrono::milliseconds(options_.flush_interval_ms), [this] { return stop_; });
    if (stop_) break;
    lock.unlock();
    auto n = Flush();
    if (!n.ok()) spdlog::warn("access log flush: {}", n.status().ToString());
    lock.lock();
  }
}

}  // namespace cc::offchain
