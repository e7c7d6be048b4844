#pragma once
// A persistent store of finished engine results (torch-free), so a killed run resumes where it stopped.
// One SQLite file, DIR/gemma-eval-cache.sqlite, in WAL mode:
//   meta(name, value)                      schema_version, created_by
//   results(key, kind, value, checksum)    key: opaque (CachingEngine hashes model identity + request);
//                                          value: the result as JSON; checksum: SHA-256 of the row
// Every store() is its own committed transaction, so a SIGKILL loses only results not yet stored.
// synchronous=NORMAL: a commit survives the process being killed (the WAL write has reached the
// kernel); only a power cut may drop the last commits, which then are simply recomputed.
//
// Damage never turns into a wrong number:
//  - a file that is not an SQLite database, or not a gemma-eval cache of this schema, is refused
//    with a gemma::Error naming it (it may hold hours of results or be someone else's file, so it is
//    neither deleted nor overwritten; the message says how to proceed);
//  - a row whose checksum, kind or JSON does not check out is ignored with a warning (a miss; the
//    recomputed result replaces it);
//  - SQLite reporting corruption or an I/O error on a read or write is a gemma::Error naming the file.
#include <cstddef>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "evals/engine.h"

struct sqlite3;
struct sqlite3_stmt;

namespace gemma::evals {

class ResultCache {
 public:
  static constexpr const char* kFileName = "gemma-eval-cache.sqlite";
  static constexpr int kSchemaVersion = 1;
  using Warn = std::function<void(const std::string& message)>;

  struct Options {
    Warn warn;                    // gets the first rejected row's description; empty = a line on stderr
    int busy_timeout_ms = 30000;  // how long to wait for another run writing to the same file
  };

  // Opens DIR/gemma-eval-cache.sqlite, creating the folder and the file if needed.
  explicit ResultCache(const std::filesystem::path& dir) : ResultCache(dir, Options{}) {}
  ResultCache(const std::filesystem::path& dir, Options options);
  ~ResultCache();
  ResultCache(const ResultCache&) = delete;
  ResultCache& operator=(const ResultCache&) = delete;

  const std::filesystem::path& path() const { return path_; }

  // The stored result for `key`, or none (absent, or a rejected row).
  std::optional<LoglikelihoodResult> find_loglikelihood(const std::string& key);
  std::optional<GenerationResult> find_generation(const std::string& key);

  // Stores (or replaces) and commits at once; throws gemma::Error naming the file on failure.
  void store(const std::string& key, const LoglikelihoodResult& result);
  void store(const std::string& key, const GenerationResult& result);

  size_t size();                                 // rows in the results table
  size_t rejected() const { return rejected_; }  // rows ignored as damaged by this object

 private:
  std::optional<std::string> find_value(const std::string& key, const char* kind);
  void store_value(const std::string& key, const char* kind, const std::string& value);
  void reject(const std::string& key, const std::string& why);
  void open_schema(int busy_timeout_ms);
  std::vector<std::string> column_values(const char* sql, const char* doing);  // each row's first column
  [[noreturn]] void fail_sqlite(const std::string& doing, int code) const;

  std::filesystem::path path_;
  Warn warn_;
  sqlite3* db_ = nullptr;
  sqlite3_stmt* select_ = nullptr;
  sqlite3_stmt* insert_ = nullptr;
  size_t rejected_ = 0;
};

// The JSON a result is stored as, and back. Lossless: doubles round-trip exactly (17 significant
// digits; non-finite values as "nan"/"inf"/"-inf"), text that is not valid UTF-8 is stored as hex.
// The parsers return none for anything that is not exactly such a document.
std::string encode_result(const LoglikelihoodResult& result);
std::string encode_result(const GenerationResult& result);
std::optional<LoglikelihoodResult> decode_loglikelihood_result(const std::string& json_text);
std::optional<GenerationResult> decode_generation_result(const std::string& json_text);

}  // namespace gemma::evals
