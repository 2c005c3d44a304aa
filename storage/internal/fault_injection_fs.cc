#include "storage/internal/fault_injection_fs.h"

#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

namespace achilles::storage_internal {
namespace {

using ::achilles::storage::FaultInjector;
using ::achilles::storage::FileOp;
using ::rocksdb::FileOptions;
using ::rocksdb::FSDirectory;
using ::rocksdb::FSRandomAccessFile;
using ::rocksdb::FSRandomRWFile;
using ::rocksdb::FSSequentialFile;
using ::rocksdb::FSWritableFile;
using ::rocksdb::IODebugContext;
using ::rocksdb::IOOptions;
using ::rocksdb::IOStatus;
using ::rocksdb::Slice;

// The status env/fs_posix.cc builds for the same errno, so the store sees
// exactly what a real full disk or descriptor shortage would give it.
IOStatus ErrnoStatus(int err, const char* context, const std::string& path) {
  const std::string msg = std::string(context) + ": " + path;
  if (err == ENOSPC || err == EDQUOT) {
    IOStatus s = IOStatus::NoSpace(msg, std::strerror(err));
    s.SetRetryable(true);
    return s;
  }
  return IOStatus::IOError(msg, std::strerror(err));
}

class FaultWritableFile final : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  FaultWritableFile(std::unique_ptr<FSWritableFile> file, std::string path,
                    const FaultInjector* inject)
      : FSWritableFileOwnerWrapper(std::move(file)),
        path_(std::move(path)),
        inject_(inject) {}

  IOStatus Append(const Slice& data, const IOOptions& o,
                  IODebugContext* dbg) override {
    if (int err = (*inject_)(FileOp::kWrite, path_)) {
      return ErrnoStatus(err, "While appending to file", path_);
    }
    return FSWritableFileOwnerWrapper::Append(data, o, dbg);
  }
  IOStatus Append(const Slice& data, const IOOptions& o,
                  const rocksdb::DataVerificationInfo& info,
                  IODebugContext* dbg) override {
    if (int err = (*inject_)(FileOp::kWrite, path_)) {
      return ErrnoStatus(err, "While appending to file", path_);
    }
    return FSWritableFileOwnerWrapper::Append(data, o, info, dbg);
  }
  IOStatus PositionedAppend(const Slice& data, uint64_t offset,
                            const IOOptions& o, IODebugContext* dbg) override {
    if (int err = (*inject_)(FileOp::kWrite, path_)) {
      return ErrnoStatus(err, "While pwrite to file", path_);
    }
    return FSWritableFileOwnerWrapper::PositionedAppend(data, offset, o, dbg);
  }
  IOStatus PositionedAppend(const Slice& data, uint64_t offset,
                            const IOOptions& o,
                            const rocksdb::DataVerificationInfo& info,
                            IODebugContext* dbg) override {
    if (int err = (*inject_)(FileOp::kWrite, path_)) {
      return ErrnoStatus(err, "While pwrite to file", path_);
    }
    return FSWritableFileOwnerWrapper::PositionedAppend(data, offset, o, info,
                                                        dbg);
  }
  IOStatus Sync(const IOOptions& o, IODebugContext* dbg) override {
    if (int err = (*inject_)(FileOp::kSync, path_)) {
      return ErrnoStatus(err, "While fdatasync", path_);
    }
    return FSWritableFileOwnerWrapper::Sync(o, dbg);
  }
  IOStatus Fsync(const IOOptions& o, IODebugContext* dbg) override {
    if (int err = (*inject_)(FileOp::kSync, path_)) {
      return ErrnoStatus(err, "While fsync", path_);
    }
    return FSWritableFileOwnerWrapper::Fsync(o, dbg);
  }
  IOStatus RangeSync(uint64_t offset, uint64_t nbytes, const IOOptions& o,
                     IODebugContext* dbg) override {
    if (int err = (*inject_)(FileOp::kSync, path_)) {
      return ErrnoStatus(err, "While sync_file_range", path_);
    }
    return FSWritableFileOwnerWrapper::RangeSync(offset, nbytes, o, dbg);
  }

 private:
  const std::string path_;
  const FaultInjector* inject_;  // Owned by the file system.
};

class FaultInjectionFileSystem final : public rocksdb::FileSystemWrapper {
 public:
  FaultInjectionFileSystem(std::shared_ptr<rocksdb::FileSystem> base,
                           FaultInjector inject)
      : FileSystemWrapper(std::move(base)), inject_(std::move(inject)) {}

  const char* Name() const override { return "AchillesFaultInjectionFs"; }

  IOStatus NewSequentialFile(const std::string& f, const FileOptions& o,
                             std::unique_ptr<FSSequentialFile>* r,
                             IODebugContext* dbg) override {
    if (int err = inject_(FileOp::kOpen, f)) {
      return ErrnoStatus(err, "While opening a file for sequentially reading",
                         f);
    }
    return FileSystemWrapper::NewSequentialFile(f, o, r, dbg);
  }
  IOStatus NewRandomAccessFile(const std::string& f, const FileOptions& o,
                               std::unique_ptr<FSRandomAccessFile>* r,
                               IODebugContext* dbg) override {
    if (int err = inject_(FileOp::kOpen, f)) {
      return ErrnoStatus(err, "While open a file for random read", f);
    }
    return FileSystemWrapper::NewRandomAccessFile(f, o, r, dbg);
  }
  IOStatus NewWritableFile(const std::string& f, const FileOptions& o,
                           std::unique_ptr<FSWritableFile>* r,
                           IODebugContext* dbg) override {
    if (int err = inject_(FileOp::kOpen, f)) {
      return ErrnoStatus(err, "While open a file for appending", f);
    }
    return Wrap(f, FileSystemWrapper::NewWritableFile(f, o, r, dbg), r);
  }
  IOStatus ReopenWritableFile(const std::string& f, const FileOptions& o,
                              std::unique_ptr<FSWritableFile>* r,
                              IODebugContext* dbg) override {
    if (int err = inject_(FileOp::kOpen, f)) {
      return ErrnoStatus(err, "While reopen a file for appending", f);
    }
    return Wrap(f, FileSystemWrapper::ReopenWritableFile(f, o, r, dbg), r);
  }
  IOStatus ReuseWritableFile(const std::string& f, const std::string& old,
                             const FileOptions& o,
                             std::unique_ptr<FSWritableFile>* r,
                             IODebugContext* dbg) override {
    if (int err = inject_(FileOp::kOpen, f)) {
      return ErrnoStatus(err, "While reuse a file for appending", f);
    }
    return Wrap(f, FileSystemWrapper::ReuseWritableFile(f, old, o, r, dbg), r);
  }
  IOStatus NewRandomRWFile(const std::string& f, const FileOptions& o,
                           std::unique_ptr<FSRandomRWFile>* r,
                           IODebugContext* dbg) override {
    if (int err = inject_(FileOp::kOpen, f)) {
      return ErrnoStatus(err, "While open file for random read/write", f);
    }
    return FileSystemWrapper::NewRandomRWFile(f, o, r, dbg);
  }
  IOStatus NewDirectory(const std::string& name, const IOOptions& o,
                        std::unique_ptr<FSDirectory>* r,
                        IODebugContext* dbg) override {
    if (int err = inject_(FileOp::kOpen, name)) {
      return ErrnoStatus(err, "While open directory", name);
    }
    return FileSystemWrapper::NewDirectory(name, o, r, dbg);
  }
  // A disk the injector calls full has no free space either.
  IOStatus GetFreeSpace(const std::string& path, const IOOptions& o,
                        uint64_t* free, IODebugContext* dbg) override {
    const int err = inject_(FileOp::kWrite, path);
    if (err == ENOSPC || err == EDQUOT) {
      *free = 0;
      return IOStatus::OK();
    }
    return FileSystemWrapper::GetFreeSpace(path, o, free, dbg);
  }

 private:
  IOStatus Wrap(const std::string& f, IOStatus s,
                std::unique_ptr<FSWritableFile>* r) {
    if (s.ok()) r->reset(new FaultWritableFile(std::move(*r), f, &inject_));
    return s;
  }

  const FaultInjector inject_;
};

}  // namespace

std::shared_ptr<rocksdb::FileSystem> NewFaultInjectionFileSystem(
    std::shared_ptr<rocksdb::FileSystem> base, storage::FaultInjector inject) {
  return std::make_shared<FaultInjectionFileSystem>(std::move(base),
                                                    std::move(inject));
}

}  // namespace achilles::storage_internal
