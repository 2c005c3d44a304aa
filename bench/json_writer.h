// A minimal JSON writer for the benchmarks' --json reports (two-space
// indented, so two reports diff line by line). Not a general library: it
// trusts its caller to pair Begin/End calls and to give keys inside
// objects only.
#ifndef ACHILLES_BENCH_JSON_WRITER_H_
#define ACHILLES_BENCH_JSON_WRITER_H_

#include <string>
#include <vector>

namespace achilles::bench {

class JsonWriter {
 public:
  void BeginObject() { Open('{'); }
  void EndObject() { Close('}'); }
  void BeginArray() { Open('['); }
  void EndArray() { Close(']'); }
  void Key(const std::string& key);
  void String(const std::string& value);
  // Non-finite numbers (a ratio to a zero) are written as null.
  void Number(double value);
  void Bool(bool value);

  // Key and value in one call, for the common case.
  void Field(const std::string& key, const std::string& value);
  void Field(const std::string& key, const char* value);
  void Field(const std::string& key, double value);

  // The text so far; complete once every Begin has its End.
  std::string text() const { return out_ + "\n"; }

 private:
  void Open(char bracket);
  void Close(char bracket);
  void BeforeValue();
  void Escaped(const std::string& s);

  std::string out_;
  std::vector<bool> has_items_;  // One entry per open object or array.
  bool after_key_ = false;
};

// Writes `text` to `path`; false (after saying why on stderr) on failure.
bool WriteTextFile(const std::string& path, const std::string& text);

}  // namespace achilles::bench

#endif  // ACHILLES_BENCH_JSON_WRITER_H_
