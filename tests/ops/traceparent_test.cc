#include <gtest/gtest.h>

#include "services/telemetry/telemetry.h"

namespace achilles::telemetry {
namespace {

constexpr char kTrace[] = "4bf92f3577b34da6a3ce929d0e0e4736";

TEST(Traceparent, W3cExampleGivesTheTraceId) {
  EXPECT_EQ(TraceIdFromTraceparent(
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
            kTrace);
  // A later version may append fields.
  EXPECT_EQ(TraceIdFromTraceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-"
                                   "00f067aa0ba902b7-01-extra"),
            kTrace);
}

TEST(Traceparent, MalformedValuesGiveNothing) {
  for (const char* bad : {
           "",
           "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
           "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
           "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
           "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
           "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
           "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x",
           "00_4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7_01",
           "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",
       }) {
    EXPECT_EQ(TraceIdFromTraceparent(bad), "") << bad;
  }
}

TEST(MetricsEndpoint, RefusesNonLoopbackUnlessAllowed) {
  auto refused = MetricsEndpoint::Start({"0.0.0.0:0", false},
                                        &metrics::Registry::Default());
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.status().message().find("--metrics_allow_remote"),
            std::string::npos);
  auto bad = MetricsEndpoint::Start({"127.0.0.1", false},
                                    &metrics::Registry::Default());
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  auto ok = MetricsEndpoint::Start({"127.0.0.1:0", false},
                                   &metrics::Registry::Default());
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_GT((*ok)->port(), 0);
}

}  // namespace
}  // namespace achilles::telemetry
