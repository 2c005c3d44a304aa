#include "tests/power_loss/durable_image.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"

namespace achilles::testing {

namespace fs = std::filesystem;

absl::Status RestoreDurableImage(const std::string& image,
                                 const std::string& dir) {
  std::ifstream names(image + "/names");
  if (!names) {
    return absl::FailedPreconditionError(
        absl::StrCat(image, "/names is missing: was the shim loaded?"));
  }
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    fs::remove_all(e.path(), ec);
    if (ec) return absl::InternalError("cannot empty " + dir);
  }
  std::string line;
  while (std::getline(names, line)) {
    std::istringstream fields(line);
    std::string id, name;
    if (!(fields >> id >> name) || name.find('/') != std::string::npos) {
      return absl::InternalError("malformed names line: " + line);
    }
    const fs::path bytes = fs::path(image) / "ids" / id;
    const fs::path to = fs::path(dir) / name;
    if (fs::exists(bytes)) {
      fs::copy_file(bytes, to, ec);
    } else {
      std::ofstream(to.string()).flush();
    }
    // The shim keeps bytes, not modes; the server creates its files 0600
    // (and refuses a server secret readable by others).
    fs::permissions(to, fs::perms::owner_read | fs::perms::owner_write, ec);
    if (ec || !fs::exists(to)) {
      return absl::InternalError(absl::StrCat("cannot restore ", name));
    }
  }
  return absl::OkStatus();
}

}  // namespace achilles::testing
