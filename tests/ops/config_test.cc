// The configuration file, --check_config, --version and the data dir's
// format version, against the real server binary.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "achilles/v1/patient_service.grpc.pb.h"
#include "tests/common/server_process.h"
#include "tests/common/temp_dir.h"
#include "tests/integration/tokens.h"

namespace achilles::testing {
namespace {

struct RunResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr.
};

RunResult RunServer(const std::string& args) {
  RunResult r;
  const std::string cmd = std::string(SERVER_BINARY) + " " + args + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) r.output.append(buf, n);
  const int status = pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
}

TEST(Version, PrintsTheProjectVersionAndBuild) {
  const RunResult r = RunServer("--version");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(
      r.output.rfind(
          std::string("achilles-server ") + ACHILLES_VERSION + " (build ", 0),
      0u)
      << r.output;
  EXPECT_NE(r.output.find("data format 2)"), std::string::npos) << r.output;
}

class ConfigTest : public ::testing::Test {
 protected:
  std::string Config(const std::string& yaml) {
    const std::string path = dir_.Sub("server.yaml");
    WriteFile(path, yaml);
    return path;
  }
  std::string Data() const { return dir_.Sub("data"); }
  TempDir dir_;
};

TEST_F(ConfigTest, ValidFileChecksOk) {
  const RunResult r = RunServer(
      "--check_config --config=" +
      Config("# a comment\nlisten: 127.0.0.1:0\ndata_dir: " + Data() +
             "\nmetrics_address: 127.0.0.1:0\nplugin_allowlist: [aa, bb]\n"
             "store_cache_mb: 32\n"));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("configuration OK (data dir " + Data()),
            std::string::npos)
      << r.output;
}

// The example shipped in deploy/ is a valid configuration.
TEST_F(ConfigTest, ShippedExampleChecksOk) {
  const RunResult r = RunServer(std::string("--check_config --config=") +
                                EXAMPLE_CONFIG + " --data_dir=" + Data());
  EXPECT_EQ(r.exit_code, 0) << r.output;
}

TEST_F(ConfigTest, UnknownKeyIsNamedWithItsLine) {
  const std::string path = Config("listen: 127.0.0.1:0\nlisen: x\n");
  const RunResult r = RunServer("--check_config --config=" + path);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find(path + ":2: unknown key 'lisen'"), std::string::npos)
      << r.output;
}

TEST_F(ConfigTest, BadValuesAreNamedByKey) {
  RunResult r =
      RunServer("--check_config --config=" + Config("store_cache_mb: lots\n"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("key 'store_cache_mb'"), std::string::npos)
      << r.output;
  r = RunServer("--check_config --config=" + Config("store_cache_mb: 4\n"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("--store_cache_mb"), std::string::npos) << r.output;
  r = RunServer("--check_config --config=" + Config("log_format: xml\n"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("--log_format: 'xml'"), std::string::npos)
      << r.output;
  r = RunServer("--check_config --config=" + Config("version: true\n"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("'version' can only be given on the command line"),
            std::string::npos)
      << r.output;
  r = RunServer("--check_config --config=" + Config("listen: [a: b]\n"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("key 'listen' needs a value"), std::string::npos)
      << r.output;
  r = RunServer("--check_config --config=" + Config("listen: 1\nlisten: 2\n"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("'listen' is given twice"), std::string::npos)
      << r.output;
  r = RunServer("--check_config --config=" + Config("- a\n- b\n"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("must be a mapping"), std::string::npos) << r.output;
  r = RunServer("--check_config --config=" + dir_.Sub("missing.yaml"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("cannot read"), std::string::npos) << r.output;
}

TEST_F(ConfigTest, FlagsOverrideTheFile) {
  // Plaintext on all interfaces is refused, from the file...
  const std::string path =
      Config("listen: 0.0.0.0:50051\ndata_dir: " + Data() + "\n");
  RunResult r = RunServer("--check_config --config=" + path);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("refusing to serve plaintext on 0.0.0.0:50051"),
            std::string::npos)
      << r.output;
  // ...and the command line's loopback address wins over it.
  r = RunServer("--check_config --config=" + path + " --listen=127.0.0.1:0");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  r = RunServer("--listen=127.0.0.1:0 --check_config --config " + path +
                " --metrics_address=0.0.0.0:9464");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("--metrics_address: refusing"), std::string::npos)
      << r.output;
}

// The data dir's format version.
class DataFormatTest : public ::testing::Test {
 protected:
  std::string Data() const { return dir_.Sub("data"); }
  std::string Format() const { return ReadFile(Data() + "/FORMAT"); }

  // Starts a server on the data dir; false when it did not come up.
  bool StartServer(std::vector<std::string> flags = {}) {
    ProcessSetup setup;
    setup.flags = std::move(flags);
    setup.flags.push_back("--plugin_dir=none");
    setup.flags.push_back("--log_level=info");
    setup.stderr_file = dir_.Sub("server.log");
    server_ = std::make_unique<ServerProcess>(Data(), dir_.Sub("port"), setup);
    return server_->WaitForPort() > 0;
  }
  void StopServer() {
    server_->SignalWithin(SIGTERM, std::chrono::seconds(20));
    server_.reset();
  }

  TempDir dir_;
  std::unique_ptr<ServerProcess> server_;
};

TEST_F(DataFormatTest, NewDirGetsTheCurrentFormat) {
  ASSERT_TRUE(StartServer()) << ReadFile(dir_.Sub("server.log"));
  EXPECT_EQ(Format(), "achilles-data-format 2\n");
  StopServer();
}

// A data dir as the server wrote it before the marker (format 1) opens,
// keeps its data and is marked; so does one marked 1.
TEST_F(DataFormatTest, OlderFormatsAreMigratedWithTheirData) {
  ASSERT_TRUE(StartServer());
  const std::string token = IssueClinicToken(
      server_->Channel(), ReadOperatorToken(Data()), "clinic-a");
  {
    auto stub = v1::PatientService::NewStub(server_->Channel());
    grpc::ClientContext ctx;
    Authorize(&ctx, token);
    v1::UpsertPatientRequest req;
    req.mutable_patient()->set_patient_id("p-1");
    v1::UpsertPatientResponse resp;
    ASSERT_TRUE(stub->UpsertPatient(&ctx, req, &resp).ok());
  }
  StopServer();
  for (const char* marker : {"", "achilles-data-format 1\n"}) {
    if (*marker == '\0') {
      std::remove((Data() + "/FORMAT").c_str());
    } else {
      WriteFile(Data() + "/FORMAT", marker);
    }
    ASSERT_TRUE(StartServer()) << ReadFile(dir_.Sub("server.log"));
    EXPECT_EQ(Format(), "achilles-data-format 2\n");
    auto stub = v1::PatientService::NewStub(server_->Channel());
    grpc::ClientContext ctx;
    Authorize(&ctx, token);
    v1::GetPatientRequest req;
    req.set_patient_id("p-1");
    v1::GetPatientResponse resp;
    EXPECT_TRUE(stub->GetPatient(&ctx, req, &resp).ok()) << marker;
    StopServer();
  }
  const std::string log = ReadFile(dir_.Sub("server.log"));
  EXPECT_NE(log.find("data format migrated"), std::string::npos) << log;
  EXPECT_NE(log.find("from=1 to=2"), std::string::npos) << log;
}

TEST_F(DataFormatTest, NewerFormatIsRefusedAndLeftAlone) {
  ASSERT_TRUE(StartServer());
  StopServer();
  WriteFile(Data() + "/FORMAT", "achilles-data-format 3\n");
  EXPECT_FALSE(StartServer());
  EXPECT_EQ(WEXITSTATUS(server_->exit_status()), 1);
  const std::string log = ReadFile(dir_.Sub("server.log"));
  EXPECT_NE(log.find("has data format 3, newer than this server's format 2"),
            std::string::npos)
      << log;
  EXPECT_EQ(Format(), "achilles-data-format 3\n");
  const RunResult check =
      RunServer("--check_config --listen=127.0.0.1:0 --data_dir=" + Data());
  EXPECT_EQ(check.exit_code, 2);
  EXPECT_NE(check.output.find("newer than this server's format 2"),
            std::string::npos)
      << check.output;
}

TEST_F(DataFormatTest, UnreadableMarkerIsRefused) {
  ASSERT_TRUE(StartServer());
  StopServer();
  WriteFile(Data() + "/FORMAT", "format two\n");
  EXPECT_FALSE(StartServer());
  EXPECT_NE(
      ReadFile(dir_.Sub("server.log")).find("is not a data format marker"),
      std::string::npos);
}

}  // namespace
}  // namespace achilles::testing
