// A real achilles-server process under resource exhaustion and shutdown, as
// an attacker or a full disk would bring it about: descriptors (idle
// connections), threads (RLIMIT_NPROC), disk space (a small tmpfs), and the
// life cycle around them (SIGTERM drain, file modes, plugin copies left by
// a killed server). Each test starts its own server on a temp dir.
#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <grpcpp/generic/generic_stub.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "achilles/v1/admin_service.grpc.pb.h"
#include "achilles/v1/caseload_service.grpc.pb.h"
#include "achilles/v1/decision_service.grpc.pb.h"
#include "achilles/v1/patient_service.grpc.pb.h"
#include "common/time_util.h"
#include "tests/common/events.h"
#include "tests/common/server_process.h"
#include "tests/common/temp_dir.h"
#include "tests/integration/tokens.h"

namespace achilles::testing {
namespace {

namespace fs = std::filesystem;

std::unique_ptr<grpc::ClientContext> Call(const std::string& token,
                                          int seconds = 30) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  Authorize(ctx.get(), token);
  ctx->set_deadline(std::chrono::system_clock::now() +
                    std::chrono::seconds(seconds));
  return ctx;
}

grpc::Status AddPatient(v1::PatientService::Stub& stub,
                        const std::string& token, const std::string& id) {
  v1::UpsertPatientRequest req;
  v1::UpsertPatientResponse resp;
  req.mutable_patient()->set_patient_id(id);
  return stub.UpsertPatient(Call(token).get(), req, &resp);
}

// `n` notes of 4,000 characters in one batch (2 MB for 500): enough to fill
// a memtable of --store_memtable_mb=8 and roll the write-ahead log.
grpc::Status AppendNotes(v1::PatientService::Stub& stub,
                         const std::string& token, const std::string& prefix,
                         int n, int seconds = 30) {
  v1::AppendEventsRequest req;
  req.set_patient_id("p");
  const int64_t at = NowMicros() - kMicrosPerHour;
  for (int i = 0; i < n; ++i) {
    *req.add_events() =
        Note(prefix + "-" + std::to_string(i), at, std::string(4000, 'x'));
  }
  v1::AppendEventsResponse resp;
  return stub.AppendEvents(Call(token, seconds).get(), req, &resp);
}

// Event ids stored for patient "p", all pages.
std::multiset<std::string> StoredIds(v1::PatientService::Stub& stub,
                                     const std::string& token) {
  std::multiset<std::string> ids;
  v1::ListEventsRequest req;
  req.set_patient_id("p");
  req.set_page_size(1000);
  for (;;) {
    v1::ListEventsResponse resp;
    auto st = stub.ListEvents(Call(token).get(), req, &resp);
    EXPECT_TRUE(st.ok()) << st.error_message();
    if (!st.ok()) break;
    for (const auto& e : resp.events()) ids.insert(e.event_id());
    if (resp.next_page_token().empty()) break;
    req.set_page_token(resp.next_page_token());
  }
  return ids;
}

int OpenFds(pid_t pid) {
  int n = 0;
  std::error_code ec;
  for (auto it =
           fs::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec);
       !ec && it != fs::directory_iterator(); it.increment(ec)) {
    ++n;
  }
  return n;
}

// Lowers the soft RLIMIT_NPROC of `pid`, a process of `uid`, keeping its
// hard limit, so that it can be raised again. Done from a child that takes
// on `uid`: a process may change the limits of another of its own user
// without CAP_SYS_RESOURCE, which containers often withhold even from root.
bool SetThreadLimit(pid_t pid, uid_t uid, rlim_t soft) {
  const pid_t child = fork();
  if (child == 0) {
    if (setgroups(0, nullptr) != 0 || setgid(uid) != 0 || setuid(uid) != 0) {
      _exit(1);
    }
    rlimit limit;
    if (prlimit(pid, RLIMIT_NPROC, nullptr, &limit) != 0) _exit(2);
    limit.rlim_cur = std::min(soft, limit.rlim_max);
    _exit(prlimit(pid, RLIMIT_NPROC, &limit, nullptr) == 0 ? 0 : 3);
  }
  int status = 0;
  waitpid(child, &status, 0);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

int Threads(pid_t pid) {
  int n = 0;
  for (const auto& e :
       fs::directory_iterator("/proc/" + std::to_string(pid) + "/task")) {
    (void)e;
    ++n;
  }
  return n;
}

// A connected TCP socket that has sent the HTTP/2 client preface and an
// empty SETTINGS frame and then never says anything again; -1 on failure.
int IdleHttp2Connection(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return -1;
  }
  static constexpr char kPreface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
  static constexpr char kSettings[9] = {0, 0, 0, 4, 0, 0, 0, 0, 0};
  send(fd, kPreface, sizeof kPreface - 1, MSG_NOSIGNAL);
  send(fd, kSettings, sizeof kSettings, MSG_NOSIGNAL);
  return fd;
}

// Waits until the server's descriptor count has not changed for half a
// second (it has dealt with every pending connection); at most 20 s.
void WaitForFdsToSettle(pid_t pid) {
  int last = -1, stable = 0;
  for (int i = 0; i < 200 && stable < 5; ++i) {
    const int now = OpenFds(pid);
    stable = now == last ? stable + 1 : 0;
    last = now;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

// Retries `call` on a fresh channel each time until it succeeds; its last
// status after at most `attempts` tries.
grpc::Status UntilOk(const std::function<grpc::Status()>& call,
                     int attempts = 60) {
  grpc::Status st;
  for (int i = 0; i < attempts; ++i) {
    st = call();
    if (st.ok()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  return st;
}

// With the 1,024-descriptor soft limit a systemd service gets, 2,000 idle
// HTTP/2 connections used to stop the listener for good and make the next
// write-ahead log roll fail ("Too many open files") until a restart. Here
// the limit is 256 and hard, so the server cannot raise it.
TEST(ResourceTest, IdleConnectionsCannotExhaustTheServersDescriptors) {
  TempDir dir;
  ProcessSetup setup;
  setup.max_open_files = 256;
  setup.flags = {"--plugin_dir=none", "--store_memtable_mb=8",
                 "--store_cache_mb=8"};
  ServerProcess server(dir.Sub("data"), dir.Sub("port"), setup);
  const int port = server.WaitForPort();
  ASSERT_GT(port, 0) << "server did not start";
  auto channel = server.Channel();
  const std::string token =
      IssueClinicToken(channel, ReadOperatorToken(dir.Sub("data")));
  auto stub = v1::PatientService::NewStub(channel);
  ASSERT_TRUE(AddPatient(*stub, token, "p").ok());

  rlimit own;
  getrlimit(RLIMIT_NOFILE, &own);
  own.rlim_cur =
      std::max<rlim_t>(own.rlim_cur, std::min<rlim_t>(own.rlim_max, 4096));
  setrlimit(RLIMIT_NOFILE, &own);
  std::vector<int> idle;
  for (int i = 0; i < 600; ++i) {
    const int fd = IdleHttp2Connection(port);
    if (fd >= 0) idle.push_back(fd);
  }
  ASSERT_GT(idle.size(), 300u) << "could not open enough connections";
  WaitForFdsToSettle(server.pid());
  // The server keeps descriptors back for the store.
  EXPECT_LT(OpenFds(server.pid()), 256 - 32);

  // Writes on the established connection keep working, including those
  // that roll the write-ahead log into a new file.
  std::set<std::string> acked;
  for (int batch = 0; batch < 4; ++batch) {
    const std::string prefix = "b" + std::to_string(batch);
    grpc::Status st = AppendNotes(*stub, token, prefix, 500);
    EXPECT_TRUE(st.ok() || st.error_code() == grpc::StatusCode::UNAVAILABLE)
        << st.error_code() << ": " << st.error_message();
    if (st.ok()) acked.insert(prefix);
  }
  EXPECT_TRUE(server.Alive());

  for (int fd : idle) close(fd);
  // New connections are accepted again and writes succeed, no restart.
  grpc::Status st = UntilOk([&] {
    auto fresh = v1::PatientService::NewStub(server.Channel());
    return AppendNotes(*fresh, token, "after", 10, 5);
  });
  ASSERT_TRUE(st.ok()) << st.error_code() << ": " << st.error_message();
  EXPECT_TRUE(server.Alive());
  const auto stored = StoredIds(*stub, token);
  for (const auto& prefix : acked) {
    EXPECT_EQ(stored.count(prefix + "-0"), 1u) << "lost batch " << prefix;
  }
}

// Each ReEvaluate run starts threads; when the operating system refuses
// one (RLIMIT_NPROC, systemd's TasksMax) the run must fail with
// RESOURCE_EXHAUSTED, not abort the process.
TEST(ResourceTest, ThreadLimitRefusesACaseloadRunWithoutKillingTheServer) {
  if (geteuid() != 0) {
    GTEST_SKIP() << "RLIMIT_NPROC binds only unprivileged users: this test "
                    "runs the server as 'nobody' and needs root for that";
  }
  TempDir dir;
  const uid_t nobody = 65534;
  for (const char* sub : {"data", "tmp"}) {
    fs::create_directory(dir.Sub(sub));
    ASSERT_EQ(chown(dir.Sub(sub).c_str(), nobody, nobody), 0);
  }
  ASSERT_EQ(chown(dir.path().c_str(), nobody, nobody), 0);
  ProcessSetup setup;
  setup.flags = {"--plugin_dir=none"};
  setup.tmpdir = dir.Sub("tmp");
  setup.uid = nobody;
  setup.gid = nobody;
  ServerProcess server(dir.Sub("data"), dir.Sub("port"), setup);
  const int port = server.WaitForPort();
  if (port == 0 && !server.Alive() && WIFEXITED(server.exit_status()) &&
      WEXITSTATUS(server.exit_status()) == 125) {
    GTEST_SKIP() << "cannot switch to user nobody here (no CAP_SETUID)";
  }
  ASSERT_GT(port, 0) << "server did not start as nobody";
  auto channel = server.Channel();
  const std::string token =
      IssueClinicToken(channel, ReadOperatorToken(dir.Sub("data")));
  auto patients = v1::PatientService::NewStub(channel);
  auto caseload = v1::CaseloadService::NewStub(channel);
  for (const char* id : {"p1", "p2", "p3"}) {
    ASSERT_TRUE(AddPatient(*patients, token, id).ok());
  }
  auto run = [&] {
    v1::ReEvaluateRequest req;
    req.set_dry_run(true);
    auto ctx = Call(token);
    auto reader = caseload->ReEvaluate(ctx.get(), req);
    v1::ReEvaluateEvent e;
    while (reader->Read(&e)) {
    }
    return reader->Finish();
  };
  ASSERT_TRUE(run().ok());

  // The server's user may have `extra` more threads than the server has
  // now. With few, the stream's own thread is refused; with more, one that
  // the run starts on its own thread is (that used to end the process:
  // std::system_error escaping a thread of ours). Until the run gets every
  // thread it needs, each refusal must be a clean RESOURCE_EXHAUSTED.
  int refusals = 0;
  for (rlim_t extra = 0; extra < 40; ++extra) {
    ASSERT_TRUE(
        SetThreadLimit(server.pid(), nobody,
                       static_cast<rlim_t>(Threads(server.pid())) + extra));
    grpc::Status st = run();
    ASSERT_TRUE(server.Alive()) << "the server died when a thread was refused "
                                << "(" << extra << " spare)";
    if (st.ok()) break;
    ++refusals;
    EXPECT_EQ(st.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED)
        << extra << " spare: " << st.error_code() << ": " << st.error_message();
    EXPECT_NE(st.error_message().find("thread"), std::string::npos)
        << st.error_message();
    v1::GetPatientRequest get;
    v1::GetPatientResponse got;
    get.set_patient_id("p1");
    EXPECT_TRUE(patients->GetPatient(Call(token).get(), get, &got).ok());
  }
  EXPECT_GT(refusals, 0);

  ASSERT_TRUE(SetThreadLimit(server.pid(), nobody, RLIM_INFINITY));
  grpc::Status again = run();
  EXPECT_TRUE(again.ok()) << again.error_message();
}

// A tmpfs mounted for the test, removed with it; empty when the test may
// not mount one (not root, or no CAP_SYS_ADMIN in a container).
class SmallDisk {
 public:
  SmallDisk(const std::string& path, const std::string& size) : path_(path) {
    fs::create_directories(path);
    const std::string opts = "size=" + size + ",mode=0700";
    mounted_ = mount("tmpfs", path.c_str(), "tmpfs", 0, opts.c_str()) == 0;
    if (!mounted_) error_ = std::strerror(errno);
  }
  ~SmallDisk() {
    if (mounted_) umount2(path_.c_str(), MNT_DETACH);
  }
  bool mounted() const { return mounted_; }
  const std::string& error() const { return error_; }

 private:
  std::string path_;
  bool mounted_ = false;
  std::string error_;
};

// Fills `dir` with a ballast file until the disk says ENOSPC.
void FillDisk(const std::string& path) {
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  ASSERT_GE(fd, 0);
  const std::string chunk(1 << 20, 'z');
  while (write(fd, chunk.data(), chunk.size()) > 0) {
  }
  const std::string byte(1, 'z');
  while (write(fd, byte.data(), 1) > 0) {
  }
  close(fd);
}

// A full disk used to abort the server now and then (a RocksDB assertion
// in its write-ahead log writer, after RocksDB resumed by itself) and to
// report INTERNAL. Writes now fail while the disk is full, the server stays
// up, and they succeed again, without a restart, once space is freed; every
// acknowledged batch is there, and no batch is there in part.
TEST(ResourceTest, AFullDiskPausesWritesThatResumeWithoutARestart) {
  TempDir dir;
  SmallDisk disk(dir.Sub("disk"), "48m");
  if (!disk.mounted()) {
    GTEST_SKIP() << "cannot mount a tmpfs here (" << disk.error()
                 << "); tests/storage/store_faults_test.cc covers disk-full "
                    "handling with an injected ENOSPC";
  }
  ServerProcess server(
      dir.Sub("disk/data"), dir.Sub("port"),
      {"--plugin_dir=none", "--store_memtable_mb=8", "--store_cache_mb=8"});
  const int port = server.WaitForPort();
  ASSERT_GT(port, 0);
  auto channel = server.Channel();
  const std::string token =
      IssueClinicToken(channel, ReadOperatorToken(dir.Sub("disk/data")));
  auto stub = v1::PatientService::NewStub(channel);
  ASSERT_TRUE(AddPatient(*stub, token, "p").ok());
  std::set<std::string> acked;
  for (const char* prefix : {"a0", "a1"}) {
    ASSERT_TRUE(AppendNotes(*stub, token, prefix, 200).ok());
    acked.insert(prefix);
  }

  FillDisk(dir.Sub("disk/ballast"));
  int refused = 0;
  for (int batch = 0; batch < 3; ++batch) {
    const std::string prefix = "f" + std::to_string(batch);
    // Every call is audited, and on a full disk the audit entry cannot be
    // synced either: the call then fails UNAVAILABLE after a bounded wait
    // ("not yet on disk") instead of hanging; the store's own refusal is
    // RESOURCE_EXHAUSTED.
    grpc::Status st = AppendNotes(*stub, token, prefix, 500, 10);
    if (st.ok()) {
      acked.insert(prefix);
    } else {
      ++refused;
      EXPECT_TRUE(st.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED ||
                  st.error_code() == grpc::StatusCode::UNAVAILABLE)
          << st.error_code() << ": " << st.error_message();
    }
    ASSERT_TRUE(server.Alive()) << "the server died on a full disk";
  }
  EXPECT_GT(refused, 0) << "the disk never filled";

  fs::remove(dir.Sub("disk/ballast"));
  grpc::Status st =
      UntilOk([&] { return AppendNotes(*stub, token, "after", 10, 5); });
  ASSERT_TRUE(st.ok()) << st.error_code() << ": " << st.error_message();
  acked.insert("after");
  ASSERT_TRUE(server.Alive());

  const auto stored = StoredIds(*stub, token);
  std::map<std::string, size_t> per_batch;
  for (const auto& id : stored) ++per_batch[id.substr(0, id.find('-'))];
  for (const auto& prefix : acked) {
    EXPECT_GT(per_batch[prefix], 0u) << "lost acknowledged batch " << prefix;
  }
  for (const auto& [prefix, n] : per_batch) {
    const size_t size = prefix == "after" ? 10 : prefix[0] == 'a' ? 200 : 500;
    EXPECT_EQ(n, size) << "batch " << prefix << " is there in part";
  }
  server.Signal(SIGKILL);
}

// Health as a new client sees it: SERVING, NOT_SERVING, or the RPC's
// error (UNAVAILABLE once nothing listens).
std::string HealthOf(ServerProcess& server) {
  grpc::GenericStub generic(server.Channel());
  grpc::Slice empty("");  // HealthCheckRequest{}: no bytes.
  grpc::ByteBuffer request(&empty, 1);
  grpc::ByteBuffer response;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  grpc::Status status;
  generic.UnaryCall(&ctx, "/grpc.health.v1.Health/Check", grpc::StubOptions(),
                    &request, &response, [&](grpc::Status st) {
                      std::lock_guard<std::mutex> lock(mu);
                      status = st;
                      done = true;
                      cv.notify_one();
                    });
  std::unique_lock<std::mutex> lock(mu);
  cv.wait(lock, [&] { return done; });
  if (!status.ok()) return "error " + std::to_string(status.error_code());
  std::vector<grpc::Slice> slices;
  std::string bytes;
  if (response.Dump(&slices).ok()) {
    for (const auto& s : slices) {
      bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
    }
  }
  // HealthCheckResponse{status = 1 SERVING | 2 NOT_SERVING}.
  if (bytes == std::string("\x08\x01", 2)) return "SERVING";
  if (bytes == std::string("\x08\x02", 2)) return "NOT_SERVING";
  return "unexpected response";
}

// After SIGTERM a load balancer must see NOT_SERVING on a new connection
// (and stop sending), not a refused connection; the listener stays for the
// drain period, and a second signal ends the drain.
TEST(ResourceTest, SigtermReportsNotServingBeforeTheListenerCloses) {
  TempDir dir;
  ServerProcess server(dir.Sub("data"), dir.Sub("port"),
                       {"--plugin_dir=none", "--shutdown_drain_ms=60000"});
  ASSERT_GT(server.WaitForPort(), 0);
  const std::string token =
      IssueClinicToken(server.Channel(), ReadOperatorToken(dir.Sub("data")));
  ASSERT_EQ(HealthOf(server), "SERVING");
  server.Kill(SIGTERM);
  std::string health = "SERVING";
  for (int i = 0; i < 200 && health == "SERVING"; ++i) {
    health = HealthOf(server);
    if (health == "SERVING") {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  EXPECT_EQ(health, "NOT_SERVING");
  // Calls on new connections are still served while draining.
  auto stub = v1::PatientService::NewStub(server.Channel());
  EXPECT_TRUE(AddPatient(*stub, token, "late").ok());
  stub.reset();
  server.Kill(SIGTERM);
  const int status = server.Wait();
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

void ExpectOwnerOnly(const std::string& root) {
  std::error_code ec;
  struct stat st;
  ASSERT_EQ(stat(root.c_str(), &st), 0) << root;
  EXPECT_EQ(st.st_mode & 077, 0u)
      << root << " is mode " << std::oct << (st.st_mode & 0777);
  for (auto it = fs::recursive_directory_iterator(root, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    ASSERT_EQ(lstat(it->path().c_str(), &st), 0);
    if (S_ISLNK(st.st_mode)) continue;
    EXPECT_EQ(st.st_mode & 077, 0u)
        << it->path() << " is mode " << std::oct << (st.st_mode & 0777);
  }
}

// Patient data and backups are readable by the server's user only, even
// when the server is started with a permissive umask.
TEST(ResourceTest, DataAndBackupsAreReadableByTheServerUserOnly) {
  TempDir dir;
  const mode_t old_umask = umask(022);
  ServerProcess server(dir.Sub("data"), dir.Sub("port"),
                       {"--plugin_dir=none", "--backup_dir=" + dir.Sub("b")});
  umask(old_umask);
  ASSERT_GT(server.WaitForPort(), 0);
  auto channel = server.Channel();
  const std::string op = ReadOperatorToken(dir.Sub("data"));
  const std::string token = IssueClinicToken(channel, op);
  auto stub = v1::PatientService::NewStub(channel);
  ASSERT_TRUE(AddPatient(*stub, token, "p").ok());
  ASSERT_TRUE(AppendNotes(*stub, token, "n", 5).ok());
  auto store = v1::StoreService::NewStub(channel);
  v1::CheckpointRequest req;
  v1::CheckpointResponse resp;
  req.set_name("nightly");
  ASSERT_TRUE(store->Checkpoint(Call(op).get(), req, &resp).ok());
  ExpectOwnerOnly(dir.Sub("data"));
  ExpectOwnerOnly(dir.Sub("b"));
}

std::set<std::string> PluginCopyDirs(const std::string& tmp) {
  std::set<std::string> dirs;
  for (const auto& e : fs::directory_iterator(tmp)) {
    if (e.path().filename().string().rfind("achilles-plugins-", 0) == 0) {
      dirs.insert(e.path().string());
    }
  }
  return dirs;
}

// The private plugin copies of a server killed with SIGKILL used to stay
// in the temp dir for good; the next server removes them at start-up, and
// never those of a server still running.
TEST(ResourceTest, PluginCopiesOfAKilledServerAreRemovedAtStartUp) {
  TempDir dir;
  fs::create_directory(dir.Sub("tmp"));
  fs::create_directory(dir.Sub("plugins"));
  fs::copy_file(std::string(TEST_PLUGIN_DIR) + "/good.so",
                dir.Sub("plugins/good.so"));
  const std::vector<std::string> flags = {"--plugin_dir=" + dir.Sub("plugins")};
  std::set<std::string> killed_copies;
  {
    ServerProcess killed(dir.Sub("data1"), dir.Sub("port1"), flags,
                         dir.Sub("tmp"));
    ASSERT_GT(killed.WaitForPort(), 0);
    killed_copies = PluginCopyDirs(dir.Sub("tmp"));
    ASSERT_EQ(killed_copies.size(), 1u);
    killed.Signal(SIGKILL);
  }
  ASSERT_EQ(PluginCopyDirs(dir.Sub("tmp")), killed_copies) << "nothing leaked";

  ServerProcess running(dir.Sub("data2"), dir.Sub("port2"), flags,
                        dir.Sub("tmp"));
  ASSERT_GT(running.WaitForPort(), 0);
  const auto after_first = PluginCopyDirs(dir.Sub("tmp"));
  EXPECT_EQ(after_first.size(), 1u);
  EXPECT_EQ(after_first.count(*killed_copies.begin()), 0u)
      << "the killed server's copies are still there";

  // A second live server leaves the first one's copies alone.
  ServerProcess second(dir.Sub("data3"), dir.Sub("port3"), flags,
                       dir.Sub("tmp"));
  ASSERT_GT(second.WaitForPort(), 0);
  const auto both = PluginCopyDirs(dir.Sub("tmp"));
  EXPECT_EQ(both.size(), 2u);
  for (const auto& d : after_first) EXPECT_EQ(both.count(d), 1u) << d;
}

}  // namespace
}  // namespace achilles::testing
