#include "services/ehr/internal/fhir_fetch.h"

#include <httplib.h>

#include <chrono>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace achilles::ehr_internal {
namespace {

using Clock = std::chrono::steady_clock;

absl::Status TooSlow(const FhirFetchOptions& o, absl::string_view what) {
  return absl::DeadlineExceededError(absl::StrCat(
      what, ": no complete answer within ", o.timeout_seconds, " s"));
}

struct SplitUrl {
  std::string origin;  // scheme://host[:port]
  std::string path;    // "/..." or "".
};

absl::StatusOr<SplitUrl> Split(const std::string& url, bool allow_http,
                               absl::string_view what = "fhirServer") {
  const bool https = absl::StartsWith(url, "https://");
  const bool http = absl::StartsWith(url, "http://");
  if (!https && !(http && allow_http)) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, http ? ": plain http is refused (https only)"
                                : ": not an https URL"));
  }
  const size_t host_at = url.find("://") + 3;
  const size_t path_at = url.find('/', host_at);
  SplitUrl out;
  out.origin = url.substr(0, path_at);
  out.path = path_at == std::string::npos ? "" : url.substr(path_at);
  const std::string host = out.origin.substr(host_at);
  if (host.empty() || host.find_first_of("@?#") != std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": no host, or user info"));
  }
  return out;
}

// A client for one request: no redirects (they could carry the token
// elsewhere), the certificate verified, every timeout the time left.
void Configure(httplib::Client& client, const FhirFetchOptions& o,
               std::chrono::microseconds left) {
  client.set_connection_timeout(0, left.count());
  client.set_read_timeout(0, left.count());
  client.set_write_timeout(0, left.count());
  client.set_follow_location(false);
  client.enable_server_certificate_verification(true);
  if (!o.ca_file.empty()) client.set_ca_cert_path(o.ca_file.c_str());
}

// The answer's status as ours; OK only for 200.
absl::Status Outcome(const httplib::Result& result, Clock::time_point deadline,
                     const FhirFetchOptions& o, absl::string_view what) {
  // A read that timed out ends at the deadline, give or take the poll's
  // granularity.
  if (!result && Clock::now() + std::chrono::milliseconds(100) > deadline) {
    return TooSlow(o, what);
  }
  if (!result) {
    return absl::UnavailableError(absl::StrCat(
        what, ": unreachable (", httplib::to_string(result.error()), ")"));
  }
  if (result->status == 404)
    return absl::NotFoundError(absl::StrCat(what, ": 404"));
  if (result->status != 200) {
    return absl::UnavailableError(
        absl::StrCat(what, ": answered HTTP ", result->status));
  }
  return absl::OkStatus();
}

// One GET, bounded by the deadline and `*budget` bytes (what is left for
// this prefetch key, or document), which it lowers.
absl::StatusOr<std::string> GetBody(const SplitUrl& url,
                                    const std::string& bearer,
                                    const FhirFetchOptions& o,
                                    Clock::time_point deadline, size_t* budget,
                                    absl::string_view what) {
  const auto left = std::chrono::duration_cast<std::chrono::microseconds>(
      deadline - Clock::now());
  if (left.count() <= 0) return TooSlow(o, what);
  httplib::Client client(url.origin);
  Configure(client, o, left);
  httplib::Headers headers = {{"Accept", "application/fhir+json"}};
  if (!bearer.empty()) headers.emplace("Authorization", "Bearer " + bearer);
  std::string body;
  bool too_big = false, too_slow = false;
  auto result = client.Get(
      url.path, headers, [](const httplib::Response&) { return true; },
      [&](const char* data, size_t n) {
        too_big = body.size() + n > *budget;
        too_slow = Clock::now() > deadline;
        if (!too_big && !too_slow) body.append(data, n);
        return !too_big && !too_slow;
      });
  if (too_big) {
    return absl::ResourceExhaustedError(
        absl::StrCat(what, ": answer larger than ", o.max_bytes, " bytes"));
  }
  if (too_slow) return TooSlow(o, what);
  if (auto st = Outcome(result, deadline, o, what); !st.ok()) return st;
  *budget -= body.size();
  return body;
}

absl::StatusOr<Json> Get(const SplitUrl& url, const FhirServer& server,
                         const FhirFetchOptions& o, Clock::time_point deadline,
                         size_t* budget) {
  auto body =
      GetBody(url, server.access_token, o, deadline, budget, "fhirServer");
  if (!body.ok()) return body.status();
  Json j = ParseJson(*body);
  if (!j.is_object() || !StringMember(j, "resourceType")) {
    return absl::InvalidArgumentError(
        "fhirServer: the answer is not a FHIR JSON resource");
  }
  return j;
}

// The `next` link of a searchset page, when there is one.
std::string NextLink(const Json& page) {
  const Json* links = Member(page, "link");
  if (links == nullptr || !links->is_array()) return "";
  for (const auto& l : *links) {
    if (StringMember(l, "relation").value_or("") == "next") {
      return StringMember(l, "url").value_or("");
    }
  }
  return "";
}

}  // namespace

absl::StatusOr<std::string> FetchDocument(const std::string& url,
                                          const FhirFetchOptions& options,
                                          absl::string_view what) {
  auto split = Split(url, options.allow_http, what);
  if (!split.ok()) return split.status();
  size_t budget = options.max_bytes;
  return GetBody(*split, "", options,
                 Clock::now() + std::chrono::seconds(options.timeout_seconds),
                 &budget, what);
}

absl::Status CheckFhirServerUrl(const std::string& url, bool allow_http,
                                absl::string_view what) {
  auto split = Split(url, allow_http, what);
  if (!split.ok()) return split.status();
  if (split->path.find_first_of("?#") != std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": a base URL has no query"));
  }
  return absl::OkStatus();
}

absl::StatusOr<Json> FetchFhir(const FhirServer& server,
                               const std::string& relative,
                               const FhirFetchOptions& options,
                               Clock::time_point deadline) {
  size_t budget = options.max_bytes;
  std::string url = absl::StrCat(server.base_url, "/", relative);
  Json merged;
  for (int page = 0; page < options.max_pages; ++page) {
    auto split = Split(url, options.allow_http);
    if (!split.ok()) return split.status();
    auto got = Get(*split, server, options, deadline, &budget);
    if (!got.ok()) return got.status();
    if (StringMember(*got, "resourceType").value_or("") != "Bundle") {
      return got;  // A single resource (Patient/{id}).
    }
    if (page == 0) {
      merged = {{"resourceType", "Bundle"},
                {"type", "searchset"},
                {"entry", Json::array()}};
    }
    if (const Json* entries = Member(*got, "entry");
        entries != nullptr && entries->is_array()) {
      for (const auto& e : *entries) merged["entry"].push_back(e);
    }
    url = NextLink(*got);
    if (url.empty()) return merged;
    // Pages come from the same server only: a link elsewhere would send
    // the access token to whoever the answer names.
    if (!absl::StartsWith(url, server.base_url + "/")) {
      return absl::InvalidArgumentError(
          "fhirServer: a next link points to another server");
    }
  }
  return absl::ResourceExhaustedError(absl::StrCat(
      "fhirServer: more than ", options.max_pages, " searchset pages"));
}

}  // namespace achilles::ehr_internal
