#include "node/node.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>

#include "apps/identity/identity.h"
#include "apps/registry.h"
#include "crypto/keyfile.h"
#include "ledger/verifier.h"

namespace cc::node {

namespace {

bool GenesisNamesNode(const Genesis& g, const PublicKey& key) {
  auto keys = g.NodeKeys();
  return std::find(keys.begin(), keys.end(), key) != keys.end();
}

}  // namespace

Node::~Node() { Stop(); }

Result<std::unique_ptr<OfflineChain>> OpenOffline(const std::string& data_dir,
                                                  const std::string& genesis_path) {
  auto oc = std::make_unique<OfflineChain>();
  std::string chain_dir = data_dir + "/chain";
  if (!std::filesystem::exists(chain_dir)) return Status::NotFound("no chain store in " + data_dir);
  CC_ASSIGN_OR_RETURN(oc->store, ChainStore::Open(chain_dir));
  if (!genesis_path.empty()) {
    CC_ASSIGN_OR_RETURN(oc->genesis, Genesis::Load(genesis_path));
  } else {
    auto stored = oc->store->GetMeta("genesis");
    if (!stored) return Status::Corruption("the store holds no genesis document");
    CC_ASSIGN_OR_RETURN(oc->genesis, Genesis::Parse(*stored));
  }
  oc->modules = std::make_unique<ModuleRegistry>();
  apps::RegisterAll(oc->modules.get());
  oc->executor = std::make_unique<Executor>(oc->modules.get(), &oc->genesis);
  return oc;
}

Status Node::Start(bool resync) {
  crypto::Init();
  CC_ASSIGN_OR_RETURN(genesis_, Genesis::Load(config_.genesis));
  CC_ASSIGN_OR_RETURN(SecretKey key, ReadKeyFile(config_.key_file));
  if (!GenesisNamesNode(genesis_, key.public_key())) {
    return Status::Precondition("node key " + key.public_key().hex() +
                                " is not a node of this network (genesis orgs[].nodes)");
  }
  std::error_code ec;
  std::filesystem::create_directories(config_.data_dir + "/chain", ec);
  if (ec) return Status::IOError("cannot create " + config_.data_dir + ": " + ec.message());
  CC_ASSIGN_OR_RETURN(store_, ChainStore::Open(config_.data_dir + "/chain"));
  modules_ = std::make_unique<ModuleRegistry>();
  apps::RegisterAll(modules_.get());
  executor_ = std::make_unique<Executor>(modules_.get(), &genesis_);
  chain_ = std::make_unique<Chain>(store_.get(), executor_.get(), key, Clock::System());
  if (auto stored = store_->GetMeta("genesis"); stored && *stored != genesis_.canonical) {
    return Status::Precondition("the data folder holds another network's chain (genesis differs)");
  }
  if (auto target = store_->ResyncTarget()) {
    // A re-sync was interrupted: finish it before anything else.
    spdlog::warn("finishing an interrupted re-sync to height {}", *target);
    CC_RETURN_IF_ERROR(ReplayChain(*store_, *executor_, *target));
  }
  if (auto head = store_->ReadHead(); !head.ok()) {
    if (!resync) {
      return Status::Corruption("refusing to start: " + head.status().message() +
                                ". Start with --resync to rebuild it from the stored blocks.");
    }
    uint64_t last = store_->LastContiguousBlock();
    spdlog::warn("re-sync: {}; rebuilding from blocks 0..{}", head.status().message(), last);
    CC_RETURN_IF_ERROR(ReplayChain(*store_, *executor_, last));
  }
  if (!store_->Head() && store_->GetBlockRaw(0).ok()) {
    if (!resync) {
      return Status::Corruption("refusing to start: the store holds blocks but no head record. "
                                "Start with --resync to rebuild it from the stored blocks.");
    }
    uint64_t last = store_->LastContiguousBlock();
    spdlog::warn("re-sync: no head record; rebuilding from blocks 0..{}", last);
    CC_RETURN_IF_ERROR(ReplayChain(*store_, *executor_, last));
  }
  const bool existing = store_->Head().has_value();
  if (existing) CC_RETURN_IF_ERROR(CheckOrRepair(resync));
  CC_RETURN_IF_ERROR(chain_->Open());
  metrics_ = std::make_unique<Metrics>();
  CC_RETURN_IF_ERROR(OpenOffchain(identity::NodeOrg(*store_, key.public_key()).value_or("")));
  if (config_.ordering == "etcd") {
    // One client per orderer thread that uses it (forwarding, catching up).
    forwarder_ = std::make_unique<PeerClient>(key, config_.peer_ca);
    fetcher_ = std::make_unique<PeerClient>(key, config_.peer_ca);
    PeerClient* fw = forwarder_.get();
    PeerClient* fe = fetcher_.get();
    EtcdPeers peers;
    // A peer's URL comes from etcd: plain HTTP is refused here too unless allowed.
    const bool plaintext = config_.ordering_allow_plaintext;
    auto refuse = [plaintext](const std::string& url) {
      return !plaintext && url.starts_with("http://")
                 ? Status::Unavailable("not sending to peer " + url + " over plain HTTP (ordering.allow_plaintext is off)")
                 : Status::Ok();
    };
    peers.forward = [fw, refuse](const std::string& url, const std::vector<TxPtr>& txs,
                                 std::vector<std::pair<size_t, Status>>* rej) {
      CC_RETURN_IF_ERROR(refuse(url));
      return fw->Forward(url, txs, rej);
    };
    peers.fetch = [fe, refuse](const std::string& url, uint64_t h) -> Result<std::string> {
      CC_RETURN_IF_ERROR(refuse(url));
      return fe->FetchBlock(url, h);
    };
    orderer_ = std::make_unique<EtcdOrderer>(chain_.get(), key, config_.cluster, std::move(peers));
  } else {
    orderer_ = std::make_unique<SoloOrderer>(chain_.get(), config_.solo);
  }
  admission_ = std::make_unique<admission::Admission>(chain_.get(), orderer_.get(), metrics_.get());
  api_ = std::make_unique<api::Server>(chain_.get(), orderer_.get(), admission_.get(), metrics_.get(), config_.api,
                                       api::OffchainServices{gatekeeper_.get(), records_.get(), wearables_.get(),
                                                             review_texts_.get()});
  CC_RETURN_IF_ERROR(api_->Start());
  if (auto* etcd = dynamic_cast<EtcdOrderer*>(orderer_.get()); etcd && config_.cluster.advertise_url.empty()) {
    etcd->set_advertise_url(api_scheme() + "://" + config_.api.host + ":" + std::to_string(api_->port()));
  }
  CC_RETURN_IF_ERROR(orderer_->Start());
  if (gatekeeper_) gatekeeper_->Start(admission_.get());
  spdlog::info("node up: chain '{}' at height {}, API on {}://{}:{}", genesis_.chain_id,
               chain_->head().height, api_scheme(), config_.api.host, api_->port());
  return Status::Ok();
}

Status Node::CheckOrRepair(bool resync) {
  auto stored = store_->GetMeta("genesis");
  if (stored && *stored != genesis_.canonical) {
    return Status::Precondition("the data folder holds another network's chain (genesis differs)");
  }
  auto t0 = std::chrono::steady_clock::now();
  VerifyOptions quick;
  quick.signatures = false;
  quick.reexecute = false;
  VerifyReport rep = VerifyChain(*store_, *executor_, quick);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (rep.ok) {
    spdlog::info("store checked: {} blocks, {} transactions in {:.2f} s", rep.blocks,
                 rep.transactions, secs);
    return Status::Ok();
  }
  if (!resync) {
    return Status::Corruption("refusing to start: " + rep.error +
                              ". Run `carechain verify` for details, or start with --resync to "
                              "rebuild the state from the last good block.");
  }
  // A damaged block: keep the blocks before it. Damage outside the blocks
  // (state, head record): replay every stored block, each checked again.
  uint64_t last_good = rep.bad_height ? *rep.bad_height - 1 : store_->LastContiguousBlock();
  if (rep.bad_height && *rep.bad_height == 0) {
    return Status::Corruption("the genesis block is damaged; remove the data folder to start over");
  }
  spdlog::warn("re-sync: {}; rebuilding the state from blocks 0..{}", rep.error, last_good);
  CC_RETURN_IF_ERROR(ReplayChain(*store_, *executor_, last_good));
  spdlog::warn("re-sync done at height {}", last_good);
  return Status::Ok();
}

Status Node::OpenOffchain(const std::string& org) {
  const OffchainConfig& o = config_.offchain;
  if (o.engine == "none") return Status::Ok();
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(o.master_key).parent_path(), ec);
  if (o.engine == "sqlite") {
    std::filesystem::create_directories(std::filesystem::path(o.sqlite_path).parent_path(), ec);
    CC_ASSIGN_OR_RETURN(records_, offchain::OpenSqliteStore(o.sqlite_path));
  } else {
    CC_ASSIGN_OR_RETURN(records_, offchain::OpenPostgresStore(o.postgres, o.postgres_pool));
  }
  CC_ASSIGN_OR_RETURN(AeadKey master, offchain::LoadOrCreateMasterKey(o.master_key));
  offchain::GatekeeperOptions g;
  g.org = org;
  g.flush_interval_ms = o.flush_interval_ms;
  g.max_tx_bytes = genesis_.params.max_tx_bytes;
  // The consent decisions' in-memory view, loaded now and kept current by
  // every commit (before the gatekeeper's own listener runs).
  auto t0 = std::chrono::steady_clock::now();
  consents_ = std::make_unique<records::ConsentIndex>();
  consents_->Load(chain_->store());
  records::ConsentIndex* index = consents_.get();
  chain_->OnCommitWrites([index](const BlockPtr&, const WriteSet& w) { index->Apply(w); });
  spdlog::info("consent index: {} records, {} grants loaded in {:.2f} s", consents_->records(), consents_->grants(),
               std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  wearables_ = std::make_unique<offchain::WearableCustodian>(records_.get(), &chain_->store(), master, org);
  review_texts_ = std::make_unique<offchain::ReviewTexts>(records_.get(), &chain_->store(), master, org);
  gatekeeper_ = std::make_unique<offchain::Gatekeeper>(records_.get(), &chain_->store(), std::move(master), g,
                                                       Clock::System(), consents_.get());
  offchain::Gatekeeper* gk = gatekeeper_.get();
  chain_->OnCommit([gk](const BlockPtr& b) { gk->OnCommit(b); });
  spdlog::info("off-chain store: {} (custodian '{}')", records_->engine(), org);
  return Status::Ok();
}

void Node::Stop() {
  if (api_) api_->Stop();
  if (gatekeeper_) gatekeeper_->Stop();
  if (orderer_) orderer_->Stop();
  api_.reset();
  admission_.reset();  // after the orderer's last commit (its listener), before the orderer
  orderer_.reset();
}

}  // namespace cc::node
