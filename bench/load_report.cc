// achilles-load's figures and tables (see load_report.h).
#include "bench/load_report.h"

#include <cstdio>
#include <limits>

#include "absl/strings/str_cat.h"
#include "bench/stats.h"

namespace achilles::bench {
namespace {

// A ratio of two figures of the same run; NaN (JSON null) without a base.
double Ratio(double value, double base) {
  return base > 0 ? value / base : std::numeric_limits<double>::quiet_NaN();
}

const PhaseResult* FindPhase(const std::vector<NamedPhase>& phases,
                             const std::string& name) {
  for (const auto& p : phases) {
    if (p.name == name) return &p.result;
  }
  return nullptr;
}

void RecordRaw(const std::map<int, RawWriteResult>& raw, Figures* f) {
  for (const auto& [threads, r] : raw) {
    const std::string name = RawGroupName(threads);
    f->Add("rocksdb", name, "writes_per_s", r.writes_per_s);
    f->Add("rocksdb", name, "p50_us", r.p50_us);
    f->Add("rocksdb", name, "p99_us", r.p99_us);
    f->Add("rocksdb", name, "writes", static_cast<double>(r.writes));
    if (!r.error.empty()) f->Note("rocksdb", name, "error: " + r.error);
  }
}

void RecordAgainstPing(const std::string& mode, const std::string& name,
                       const PhaseResult& r, const PhaseResult& ping,
                       Figures* f) {
  f->Add(mode, name, "rps_vs_ping", Ratio(r.rps, ping.rps));
  f->Add(mode, name, "p50_vs_ping", Ratio(r.p50_us, ping.p50_us));
  f->Add(mode, name, "p99_vs_ping", Ratio(r.p99_us, ping.p99_us));
  if (r.has_server_cpu() && ping.has_server_cpu()) {
    f->Add(mode, name, "cpu_vs_ping",
           Ratio(r.server_cpu_per_request(), ping.server_cpu_per_request()));
  }
}

void RecordPhase(const std::string& mode, const NamedPhase& p, Figures* f) {
  const PhaseResult& r = p.result;
  f->Add(mode, p.name, "rps", r.rps);
  f->Add(mode, p.name, "p50_us", r.p50_us);
  f->Add(mode, p.name, "p99_us", r.p99_us);
  if (r.has_server_cpu()) {
    f->Add(mode, p.name, "server_cpu_us_per_req", r.server_cpu_per_request());
    f->Add(mode, p.name, "server_child_processes", r.server_children);
  }
  f->Add(mode, p.name, "client_cpu_us_per_req", r.client_cpu_per_request());
  f->Add(mode, p.name, "requests", static_cast<double>(r.requests));
  f->Add(mode, p.name, "errors", static_cast<double>(r.errors));
  if (r.offered_rps > 0) f->Add(mode, p.name, "offered_rps", r.offered_rps);
  if (r.errors > 0) {
    f->Note(mode, p.name, absl::StrCat("had errors; first: ", r.first_error));
  }
}

void RecordMode(const std::string& mode, const std::vector<NamedPhase>& phases,
                const std::map<int, RawWriteResult>& raw, Figures* f) {
  const PhaseResult* ping = FindPhase(phases, "Ping");
  for (const auto& p : phases) {
    RecordPhase(mode, p, f);
    if (ping != nullptr) RecordAgainstPing(mode, p.name, p.result, *ping, f);
  }
  // The anchor is the most threads' raw figure (8 by default).
  const PhaseResult* append = FindPhase(phases, "AppendEvents");
  if (append != nullptr && !raw.empty()) {
    const auto& [threads, anchor] = *raw.rbegin();
    f->Add(mode, "AppendEvents",
           absl::StrCat("rps_vs_raw_", threads, "_threads"),
           Ratio(append->rps, anchor.writes_per_s));
  }
}

// Process-isolated plugins against in-process ones, Evaluate by Evaluate.
void RecordIsolation(const std::vector<NamedPhase>& inprocess,
                     const std::vector<NamedPhase>& process, Figures* f) {
  for (const auto& p : process) {
    const PhaseResult* base = FindPhase(inprocess, p.name);
    if (base == nullptr || p.name.rfind("Evaluate", 0) != 0) continue;
    const PhaseResult& r = p.result;
    if (r.has_server_cpu() && base->has_server_cpu()) {
      f->Add("isolation", p.name, "cpu_process_vs_inprocess",
             Ratio(r.server_cpu_per_request(), base->server_cpu_per_request()));
    }
    f->Add("isolation", p.name, "rps_process_vs_inprocess",
           Ratio(r.rps, base->rps));
    f->Add("isolation", p.name, "p50_process_vs_inprocess",
           Ratio(r.p50_us, base->p50_us));
    f->Add("isolation", p.name, "p99_process_vs_inprocess",
           Ratio(r.p99_us, base->p99_us));
  }
}

using Columns = std::vector<std::pair<std::string, std::string>>;

std::string Cell(const FigureGroup& g, const std::string& metric) {
  const std::vector<double>* v = g.Find(metric);
  return v == nullptr ? "-" : FormatSpread(*v);
}

void PrintSection(const Figures& f, const std::string& section,
                  const std::string& title, const Columns& columns) {
  bool header = false;
  for (const auto& g : f.groups()) {
    if (g.section != section) continue;
    if (!header) {
      std::printf("\n%s\n%-26s", title.c_str(), "");
      for (const auto& c : columns) std::printf(" %13s", c.first.c_str());
      std::printf("\n");
      header = true;
    }
    std::printf("%-26s", g.name.c_str());
    for (const auto& c : columns) {
      std::printf(" %13s", Cell(g, c.second).c_str());
    }
    std::printf("\n");
  }
}

// AppendEvents as a fraction of the raw synced-write rate, per mode.
void PrintAnchor(const Figures& f) {
  for (const auto& g : f.groups()) {
    if (g.name != "AppendEvents") continue;
    for (const auto& [metric, values] : g.metrics) {
      if (metric.rfind("rps_vs_raw_", 0) != 0) continue;
      // "rps_vs_raw_8_threads": the thread count sits after the prefix.
      std::printf(
          "AppendEvents (%s) req/s / raw synced writes/s, %s threads: %s\n",
          g.section.c_str(), metric.substr(11, metric.size() - 19).c_str(),
          FormatSpread(values).c_str());
    }
  }
}

void PrintNotes(const Figures& f) {
  for (const auto& g : f.groups()) {
    for (const auto& n : g.notes) {
      std::printf("  NOTE %s / %s: %s\n", g.section.c_str(), g.name.c_str(),
                  n.c_str());
    }
  }
}

}  // namespace

std::string RawGroupName(int threads) {
  return absl::StrCat("synced WriteBatch x", threads);
}

void RecordLoadRun(const LoadRun& run, Figures* figures) {
  RecordRaw(run.raw, figures);
  const std::vector<NamedPhase>* inprocess = nullptr;
  const std::vector<NamedPhase>* process = nullptr;
  for (const auto& [mode, phases] : run.modes) {
    RecordMode(mode, phases, run.raw, figures);
    if (mode == "inprocess") inprocess = &phases;
    if (mode == "process") process = &phases;
  }
  if (inprocess != nullptr && process != nullptr) {
    RecordIsolation(*inprocess, *process, figures);
  }
}

void PrintLoadReport(const Figures& f, int runs) {
  std::printf(
      "\nFigures%s (latencies in microseconds; ratios within each run)\n",
      runs > 1 ? absl::StrCat(": min-max over ", runs, " runs").c_str() : "");
  PrintSection(
      f, "rocksdb", "raw RocksDB, sync=true, WAL on (ingest anchor)",
      {{"writes/s", "writes_per_s"}, {"p50", "p50_us"}, {"p99", "p99_us"}});
  const Columns load = {{"req/s", "rps"},
                        {"p50", "p50_us"},
                        {"p99", "p99_us"},
                        {"srv CPU/req", "server_cpu_us_per_req"},
                        {"rps/Ping", "rps_vs_ping"},
                        {"p50/Ping", "p50_vs_ping"},
                        {"p99/Ping", "p99_vs_ping"},
                        {"CPU/Ping", "cpu_vs_ping"},
                        {"errors", "errors"}};
  for (const char* mode : {"inprocess", "process", "target"}) {
    PrintSection(f, mode, absl::StrCat("server: ", mode), load);
  }
  PrintSection(f, "isolation", "plugin isolation: process / inprocess",
               {{"CPU/req", "cpu_process_vs_inprocess"},
                {"req/s", "rps_process_vs_inprocess"},
                {"p50", "p50_process_vs_inprocess"},
                {"p99", "p99_process_vs_inprocess"}});
  std::printf("\n");
  PrintAnchor(f);
  PrintNotes(f);
}

}  // namespace achilles::bench
