// The load generator's client side: one gRPC channel per client thread, as
// separate EHR connections would be, and the call metadata (bearer token,
// deadline) every request carries.
#ifndef ACHILLES_BENCH_CLIENTS_H_
#define ACHILLES_BENCH_CLIENTS_H_

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "achilles/v1/decision_service.grpc.pb.h"
#include "achilles/v1/patient_service.grpc.pb.h"

namespace achilles::bench {

class Clients {
 public:
  Clients(const std::string& target, const std::string& token, int count,
          std::chrono::milliseconds deadline);

  int size() const { return static_cast<int>(patients_.size()); }
  v1::PatientService::Stub* patients(int client) const {
    return patients_[client].get();
  }
  v1::DecisionService::Stub* decisions(int client) const {
    return decisions_[client].get();
  }
  // Adds the token and the deadline: no call outlives a phase by more.
  void Prepare(grpc::ClientContext* ctx) const;

 private:
  std::string token_;
  std::chrono::milliseconds deadline_;
  std::vector<std::unique_ptr<v1::PatientService::Stub>> patients_;
  std::vector<std::unique_ptr<v1::DecisionService::Stub>> decisions_;
};

}  // namespace achilles::bench

#endif  // ACHILLES_BENCH_CLIENTS_H_
