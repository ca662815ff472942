// plan --granularity and split --target cpu --objective ... through the binary: the knee against
// the link, the --costs round trip from `run --profile --json`, and one-line refusals of bad input.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <numeric>

#include "support/cli_support.h"
#include "support/test_support.h"

namespace pipecut {
namespace {

namespace fs = std::filesystem;
using testing::CliResult;
using testing::read_json;
using testing::run_cli;

class PlanNetwork : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // One folder per process: ctest runs each case in a process of its own, several at once.
    dir_ = testing::fresh_dir("cli_plan_network_" + std::to_string(::getpid()));
    for (const char* name : {"resnet18", "resnet50"}) {
      ASSERT_EQ(run_cli(std::string("zoo ") + name + " -o " + model(name)).status, 0) << name;
    }
  }
  static void TearDownTestSuite() { fs::remove_all(dir_); }
  static std::string model(const std::string& name) { return (dir_ / (name + ".tflite")).string(); }
  static nlohmann::json json_of(const std::string& args) {
    const CliResult r = run_cli(args);
    EXPECT_EQ(r.status, 0) << args << "\n" << r.err;
    return r.status == 0 ? nlohmann::json::parse(r.out) : nlohmann::json{};
  }
  // The command fails with one line that names `what`.
  static void expect_refused(const std::string& args, const std::string& what) {
    const CliResult r = run_cli(args);
    EXPECT_NE(r.status, 0) << args;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << args << "\n" << r.err;
    EXPECT_NE(r.err.find(what), std::string::npos) << args << "\n" << r.err;
  }
  static fs::path dir_;
};

fs::path PlanNetwork::dir_;

TEST_F(PlanNetwork, TheKneeFallsAsTheLinkGetsSlower) {
  const int64_t limit = 16 << 20;
  std::vector<int> knees;
  for (const char* link : {"10Gbit,0.05ms", "1Gbit,0.3ms", "100Mbit,1ms"}) {
    const auto j = json_of("plan " + model("resnet50") +
                           " --granularity --mac-rate 20GMAC/s --worker-memory 16MiB --link " +
                           link + " --json");
    ASSERT_TRUE(j.contains("rows")) << link;
    EXPECT_EQ(j["target"]["worker_memory_bytes"], limit);
    int k = 0, knees_marked = 0;
    for (const auto& row : j["rows"]) {
      EXPECT_EQ(row["segments"], ++k);
      EXPECT_EQ(row["feasible"].get<bool>(), row["max_worker_bytes"].get<int64_t>() <= limit);
      EXPECT_EQ(row["cuts"].size(), static_cast<size_t>(k - 1));
      EXPECT_GE(row["latency_ms"].get<double>(), row["slowest_stage_ms"].get<double>() - 1e-9);
      knees_marked += row["knee"].get<bool>();
    }
    EXPECT_EQ(k, 16);  // --max-k's default; resnet50 has 22 usable cuts
    EXPECT_EQ(knees_marked, 1);
    EXPECT_FALSE(j["rows"][0]["feasible"].get<bool>());  // 25 MiB of weights in one worker
    knees.push_back(j["knee_segments"].get<int>());
  }
  EXPECT_GE(knees[0], knees[1]);
  EXPECT_GE(knees[1], knees[2]);
  EXPECT_GT(knees[0], knees[2]);

  const fs::path svg = dir_ / "granularity.svg";
  const CliResult table = run_cli("plan " + model("resnet50") +
                                  " --granularity --mac-rate 20GMAC/s --worker-memory 16MiB "
                                  "--link 100Mbit,1ms --svg " +
                                  svg.string());
  ASSERT_EQ(table.status, 0) << table.err;
  EXPECT_NE(table.out.find("<- knee"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find(" !"), std::string::npos) << table.out;  // K = 1, 2 over the memory
  std::ifstream in(svg);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text.rfind("<svg", 0), 0u);
  EXPECT_NE(text.find("knee"), std::string::npos);
  EXPECT_NE(text.find("</svg>"), std::string::npos);
  EXPECT_EQ(std::count(text.begin(), text.end(), '<'), std::count(text.begin(), text.end(), '>'));
}

TEST_F(PlanNetwork, CostsRoundTripFromRunProfile) {
  const CliResult run = run_cli("run " + model("resnet18") + " --profile --json --iterations 2");
  ASSERT_EQ(run.status, 0) << run.err;
  const fs::path costs = dir_ / "resnet18.costs.json";
  std::ofstream(costs) << run.out;
  const auto profile = nlohmann::json::parse(run.out)["profile"];
  double total = 0;
  for (const auto& op : profile["ops"]) total += op["ms"].get<double>();

  const auto j = json_of("plan " + model("resnet18") + " --granularity --costs " + costs.string() +
                         " --link 1Gbit,0ms --json");
  ASSERT_TRUE(j.contains("rows"));
  EXPECT_EQ(j["target"]["compute"], "measured");
  // One worker: its compute is the profile's total, plus receiving the 150 KiB input.
  const double input_ms = 224.0 * 224 * 3 * 8 / 1e9 * 1000;
  EXPECT_NEAR(j["rows"][0]["slowest_stage_ms"].get<double>(), total + input_ms, 1e-6);
  EXPECT_NEAR(j["rows"][0]["latency_ms"].get<double>(), total + input_ms, 1e-6);

  // split takes the knee when --segments is not given, and says so in its log.
  const fs::path out = dir_ / "r18_split";
  const CliResult split =
      run_cli("split " + model("resnet18") + " --target cpu --objective throughput --costs " +
              costs.string() + " --link 1Gbit,0ms -o " + out.string());
  ASSERT_EQ(split.status, 0) << split.err;
  EXPECT_NE(split.out.find("CPU workers (estimated)"), std::string::npos) << split.out;
  const auto meta = read_json(out / "meta.json");
  const auto& plan = meta["plan"];
  EXPECT_EQ(plan["method"], "throughput");
  EXPECT_EQ(plan["segments"].get<int>(), j["knee_segments"].get<int>());
  const std::string log = plan["log"].dump();
  EXPECT_NE(log.find("the knee"), std::string::npos) << log;

  // Latency with a memory limit: every worker within it.
  const auto latency = json_of("plan " + model("resnet50") +
                               " --target cpu --objective latency --mac-rate 20GMAC/s "
                               "--worker-memory 12MiB --algorithms optimal --json");
  ASSERT_TRUE(latency.contains("plans"));
  const auto& fastest = latency["plans"][1];
  EXPECT_EQ(fastest["method"], "latency");
  EXPECT_LE(fastest["network_estimate"]["max_worker_bytes"].get<int64_t>(), 12 << 20);
  EXPECT_GT(fastest["segments"].get<int>(), 2);
}

TEST_F(PlanNetwork, BadInputIsOneLineNamingIt) {
  const std::string r18 = model("resnet18"), r50 = model("resnet50");
  const std::string plan = "plan " + r50 + " --granularity ";
  // A profile of another model.
  const CliResult run = run_cli("run " + r18 + " --profile --json --iterations 1");
  ASSERT_EQ(run.status, 0);
  const fs::path other = dir_ / "other.costs.json";
  std::ofstream(other) << run.out;
  expect_refused(plan + "--costs " + other.string(), other.string());
  expect_refused(plan + "--costs " + (dir_ / "none.json").string(), "none.json");
  const fs::path text = dir_ / "text.json";
  std::ofstream(text) << "op 1: 3 ms\n";
  expect_refused(plan + "--costs " + text.string(), "text.json: not JSON");
  expect_refused(plan + "--mac-rate 1GMAC/s --costs " + other.string(), "not both");
  expect_refused(plan, "--mac-rate");  // no cost model
  expect_refused(plan + "--mac-rate fast", "--mac-rate: 'fast'");
  expect_refused(plan + "--mac-rate 1GMAC/s --link 1Gbit", "--link: '1Gbit'");
  expect_refused(plan + "--mac-rate 1GMAC/s --link 1Gbit,1hour", "unknown latency unit 'hour'");
  expect_refused(plan + "--mac-rate 1GMAC/s --link 1Gbx,1ms", "unknown bandwidth unit 'Gbx'");
  expect_refused(plan + "--mac-rate 1GMAC/s --link usb3", "--link: usb3");
  expect_refused(plan + "--mac-rate 1GMAC/s --worker-memory lots", "--worker-memory");
  expect_refused(plan + "--mac-rate 1GMAC/s --worker-memory 0", "--worker-memory");
  expect_refused(plan + "--mac-rate 1GMAC/s --target edgetpu", "--target cpu");
  expect_refused("plan " + r50 + " --svg x.svg", "--svg needs --granularity");
  expect_refused("plan " + r50 + " --link 1Gbit,1ms", "--target cpu");
  expect_refused("plan " + r50 + " --worker-memory 1GiB", "--worker-memory is for CPU workers");
  expect_refused(
      "split " + r50 + " --target cpu --objective throughput -o " + (dir_ / "out").string(),
      "--costs FILE");
  expect_refused("split " + r50 + " --target cpu --objective latency --mac-rate 1GMAC/s " +
                     "--worker-memory 1MiB -o " + (dir_ / "out").string(),
                 "keeps every worker within 1.00 MiB");
  EXPECT_FALSE(fs::exists(dir_ / "out"));
}

}  // namespace
}  // namespace pipecut
