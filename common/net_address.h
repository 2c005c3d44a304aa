// Listening addresses ("host:port"). Thread-safe, no I/O.
#ifndef ACHILLES_COMMON_NET_ADDRESS_H_
#define ACHILLES_COMMON_NET_ADDRESS_H_

#include <string>

namespace achilles {

// True for loopback only: 127.0.0.0/8, ::1 (bracketed) and "localhost".
// Anything else (0.0.0.0, a NIC address, another name) reaches other
// machines. `address` is host:port.
bool IsLoopbackAddress(const std::string& address);

}  // namespace achilles

#endif  // ACHILLES_COMMON_NET_ADDRESS_H_
