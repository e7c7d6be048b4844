#include "evals/result_cache.h"

#include <cmath>
#include <cstdio>
#include <limits>
#include <set>
#include <system_error>

#include <sqlite3.h>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/sha256.h"

namespace gemma::evals {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr const char* kLoglikelihood = "loglikelihood";
constexpr const char* kGeneration = "generate_until";
constexpr const char* kWhatToDo =
    "delete it to start a fresh cache, or pass --cache DIR (another folder) or --no-cache";

// Covers the key and kind too: a damaged page that moved a value under another key is caught as well.
std::string row_checksum(const std::string& key, const std::string& kind, const std::string& value) {
  Sha256 hash;
  hash.update(key);
  hash.update(std::string_view("\0", 1));
  hash.update(kind);
  hash.update(std::string_view("\0", 1));
  hash.update(value);
  return hash.hex_digest();
}

// JSON has no NaN or infinities (nlohmann would write null); a broken model's NaN must come back as NaN.
json encode_double(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  return value;
}

std::optional<double> decode_double(const json& value) {
  if (value.is_number()) return value.get<double>();
  if (value == "nan") return std::numeric_limits<double>::quiet_NaN();
  if (value == "inf") return std::numeric_limits<double>::infinity();
  if (value == "-inf") return -std::numeric_limits<double>::infinity();
  return std::nullopt;
}

std::optional<int> decode_int(const json& object, const char* name) {
  auto it = object.find(name);
  if (it == object.end() || !it->is_number_integer()) return std::nullopt;
  const auto value = it->get<int64_t>();
  if (value < std::numeric_limits<int>::min() || value > std::numeric_limits<int>::max()) return std::nullopt;
  return static_cast<int>(value);
}

std::optional<bool> decode_bool(const json& object, const char* name) {
  auto it = object.find(name);
  if (it == object.end() || !it->is_boolean()) return std::nullopt;
  return it->get<bool>();
}

std::optional<std::string> from_hex(const std::string& hex) {
  if (hex.size() % 2 != 0) return std::nullopt;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  std::string bytes;
  for (size_t i = 0; i < hex.size(); i += 2) {
    const int high = nibble(hex[i]), low = nibble(hex[i + 1]);
    if (high < 0 || low < 0) return std::nullopt;
    bytes += static_cast<char>(high * 16 + low);
  }
  return bytes;
}

std::optional<json> parse_object(const std::string& text) {
  json value = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!value.is_object()) return std::nullopt;  // also a parse error (discarded)
  return value;
}

}  // namespace

// ---- values ----

std::string encode_result(const LoglikelihoodResult& result) {
  json value = {{"logprob", encode_double(result.logprob)},
                {"is_greedy", result.is_greedy},
                {"context_tokens", result.context_tokens},
                {"continuation_tokens", result.continuation_tokens},
                {"truncated", result.truncated}};
  return value.dump();
}

std::string encode_result(const GenerationResult& result) {
  json value = {{"generated_tokens", result.generated_tokens},
                {"hit_max_tokens", result.hit_max_tokens},
                {"truncated", result.truncated}};
  // A generation can stop inside a multi-byte character; JSON strings must be UTF-8.
  value["text"] = result.text;
  try {
    return value.dump();
  } catch (const json::type_error&) {
    value.erase("text");
    value["text_hex"] = lower_hex(result.text);
    return value.dump();
  }
}

std::optional<LoglikelihoodResult> decode_loglikelihood_result(const std::string& json_text) {
  auto value = parse_object(json_text);
  if (!value || value->size() != 5 || !value->contains("logprob")) return std::nullopt;
  auto logprob = decode_double((*value)["logprob"]);
  auto is_greedy = decode_bool(*value, "is_greedy");
  auto context_tokens = decode_int(*value, "context_tokens");
  auto continuation_tokens = decode_int(*value, "continuation_tokens");
  auto truncated = decode_bool(*value, "truncated");
  if (!logprob || !is_greedy || !context_tokens || !continuation_tokens || !truncated) return std::nullopt;
  LoglikelihoodResult result;
  result.logprob = *logprob;
  result.is_greedy = *is_greedy;
  result.context_tokens = *context_tokens;
  result.continuation_tokens = *continuation_tokens;
  result.truncated = *truncated;
  return result;
}

std::optional<GenerationResult> decode_generation_result(const std::string& json_text) {
  auto value = parse_object(json_text);
  if (!value || value->size() != 4) return std::nullopt;
  std::optional<std::string> text;
  if (auto it = value->find("text"); it != value->end() && it->is_string())
    text = it->get<std::string>();
  else if (auto hex = value->find("text_hex"); hex != value->end() && hex->is_string())
    text = from_hex(hex->get<std::string>());
  auto generated_tokens = decode_int(*value, "generated_tokens");
  auto hit_max_tokens = decode_bool(*value, "hit_max_tokens");
  auto truncated = decode_bool(*value, "truncated");
  if (!text || !generated_tokens || !hit_max_tokens || !truncated) return std::nullopt;
  GenerationResult result;
  result.text = std::move(*text);
  result.generated_tokens = *generated_tokens;
  result.hit_max_tokens = *hit_max_tokens;
  result.truncated = *truncated;
  return result;
}

// ---- the store ----

ResultCache::ResultCache(const fs::path& dir, Options options)
    : path_(dir / kFileName), warn_(std::move(options.warn)) {
  if (!warn_)
    warn_ = [](const std::string& message) { std::fprintf(stderr, "gemma-eval: warning: %s\n", message.c_str()); };
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec || !fs::is_directory(dir))
    fail("result cache folder {}: cannot create it ({})", dir.string(), ec ? ec.message() : "a file is in the way");
  if (sqlite3_open_v2(path_.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) != SQLITE_OK) {
    const std::string message = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close_v2(db_);
    fail("result cache {}: cannot open it ({})", path_.string(), message);
  }
  try {
    open_schema(options.busy_timeout_ms);
  } catch (...) {
    sqlite3_finalize(select_);
    sqlite3_finalize(insert_);
    sqlite3_close_v2(db_);
    throw;
  }
}

ResultCache::~ResultCache() {
  sqlite3_finalize(select_);
  sqlite3_finalize(insert_);
  sqlite3_close_v2(db_);  // checkpoints the WAL into the main file when this is the last connection
}

void ResultCache::open_schema(int busy_timeout_ms) {
  // Another run may share the folder: wait for its write lock rather than failing at once.
  sqlite3_busy_timeout(db_, busy_timeout_ms);
  auto exec = [&](const std::string& sql, const std::string& doing) {
    const int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) fail_sqlite(doing, rc);
  };
  // Read-only checks first, so a file that is not ours is refused before anything is written to it.
  // The first read parses the header: a file that is not a database fails here (SQLITE_NOTADB).
  std::set<std::string> tables;
  for (const auto& name : column_values("SELECT name FROM sqlite_master WHERE type='table'", "opening"))
    tables.insert(name);
  if (!tables.empty()) {
    if (!tables.count("meta") || !tables.count("results"))
      fail(
          "result cache {}: an SQLite database, but not a gemma-eval cache (no meta and results tables); it was "
          "left as it is: {}",
          path_.string(), kWhatToDo);
    auto version = column_values("SELECT value FROM meta WHERE name='schema_version'", "opening");
    const std::string found = version.empty() ? "none" : version[0];
    if (found != std::to_string(kSchemaVersion))
      fail("result cache {}: schema version {}, this gemma-eval reads version {}; it was left as it is: {}",
           path_.string(), found, kSchemaVersion, kWhatToDo);
  }
  exec("PRAGMA journal_mode=WAL", "opening");
  exec("PRAGMA synchronous=NORMAL", "opening");
  // IF NOT EXISTS / OR IGNORE: two runs starting on a new file at once both succeed.
  exec(
      "BEGIN IMMEDIATE;"
      "CREATE TABLE IF NOT EXISTS meta(name TEXT PRIMARY KEY, value TEXT NOT NULL);"
      "CREATE TABLE IF NOT EXISTS results(key TEXT PRIMARY KEY, kind TEXT NOT NULL, value TEXT NOT NULL,"
      "                                   checksum TEXT NOT NULL);" +
          fmt::format("INSERT OR IGNORE INTO meta VALUES('schema_version', '{}'), "
                      "('created_by', 'gemma-eval result cache');",
                      kSchemaVersion) +
          "COMMIT;",
      "creating the tables");
  int rc = sqlite3_prepare_v2(db_, "SELECT kind, value, checksum FROM results WHERE key=?1", -1, &select_, nullptr);
  if (rc == SQLITE_OK)
    rc = sqlite3_prepare_v2(db_, "INSERT OR REPLACE INTO results(key, kind, value, checksum) VALUES(?1, ?2, ?3, ?4)",
                            -1, &insert_, nullptr);
  if (rc != SQLITE_OK) fail_sqlite("opening", rc);
}

std::vector<std::string> ResultCache::column_values(const char* sql, const char* doing) {
  sqlite3_stmt* statement = nullptr;
  std::vector<std::string> values;
  int rc = sqlite3_prepare_v2(db_, sql, -1, &statement, nullptr);
  if (rc == SQLITE_OK) {
    while ((rc = sqlite3_step(statement)) == SQLITE_ROW) {
      const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(statement, 0));
      values.emplace_back(text ? text : "");
    }
  }
  if (rc != SQLITE_DONE) {
    sqlite3_finalize(statement);  // moves the statement's error message to the connection, for fail_sqlite
    fail_sqlite(doing, rc);
  }
  sqlite3_finalize(statement);
  return values;
}

void ResultCache::fail_sqlite(const std::string& doing, int code) const {
  const std::string detail = sqlite3_errmsg(db_);
  const int primary = code & 0xff;
  if (primary == SQLITE_NOTADB || primary == SQLITE_CORRUPT)
    fail("result cache {}: {} failed: the file is damaged or not a gemma-eval cache ({}); it was left as it is: {}",
         path_.string(), doing, detail, kWhatToDo);
  fail("result cache {}: {} failed ({})", path_.string(), doing, detail);
}

std::optional<std::string> ResultCache::find_value(const std::string& key, const char* kind) {
  sqlite3_reset(select_);
  sqlite3_bind_text(select_, 1, key.data(), static_cast<int>(key.size()), SQLITE_TRANSIENT);
  const int rc = sqlite3_step(select_);
  if (rc == SQLITE_DONE) return std::nullopt;
  if (rc != SQLITE_ROW) fail_sqlite("reading a result", rc);
  auto column = [&](int i) {
    const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(select_, i));
    return text ? std::string(text, static_cast<size_t>(sqlite3_column_bytes(select_, i))) : std::string();
  };
  const std::string stored_kind = column(0), value = column(1), checksum = column(2);
  sqlite3_reset(select_);
  if (checksum != row_checksum(key, stored_kind, value)) {
    reject(key, "its checksum does not match");
    return std::nullopt;
  }
  if (stored_kind != kind) {
    reject(key, "stored as " + stored_kind + ", looked up as " + kind);
    return std::nullopt;
  }
  return value;
}

void ResultCache::reject(const std::string& key, const std::string& why) {
  // One line is enough to flag a damaged file; the CLI reports the total at the end.
  if (rejected_++ == 0)
    warn_(fmt::format("result cache {}: ignoring a damaged entry (key {}: {}); such entries are recomputed",
                      path_.string(), key, why));
}

std::optional<LoglikelihoodResult> ResultCache::find_loglikelihood(const std::string& key) {
  auto value = find_value(key, kLoglikelihood);
  if (!value) return std::nullopt;
  auto result = decode_loglikelihood_result(*value);
  if (!result) reject(key, "its value is not a loglikelihood result");
  return result;
}

std::optional<GenerationResult> ResultCache::find_generation(const std::string& key) {
  auto value = find_value(key, kGeneration);
  if (!value) return std::nullopt;
  auto result = decode_generation_result(*value);
  if (!result) reject(key, "its value is not a generation result");
  return result;
}

void ResultCache::store_value(const std::string& key, const char* kind, const std::string& value) {
  const std::string checksum = row_checksum(key, kind, value);
  sqlite3_reset(insert_);
  sqlite3_bind_text(insert_, 1, key.data(), static_cast<int>(key.size()), SQLITE_TRANSIENT);
  sqlite3_bind_text(insert_, 2, kind, -1, SQLITE_STATIC);
  sqlite3_bind_text(insert_, 3, value.data(), static_cast<int>(value.size()), SQLITE_TRANSIENT);
  sqlite3_bind_text(insert_, 4, checksum.data(), static_cast<int>(checksum.size()), SQLITE_TRANSIENT);
  const int rc = sqlite3_step(insert_);                        // autocommit: this row is committed when step returns
  if (rc != SQLITE_DONE) fail_sqlite("storing a result", rc);  // before reset, which may clear the message
  sqlite3_reset(insert_);
}

void ResultCache::store(const std::string& key, const LoglikelihoodResult& result) {
  store_value(key, kLoglikelihood, encode_result(result));
}

void ResultCache::store(const std::string& key, const GenerationResult& result) {
  store_value(key, kGeneration, encode_result(result));
}

size_t ResultCache::size() {
  return std::stoull(column_values("SELECT count(*) FROM results", "counting the results").at(0));
}

}  // namespace gemma::evals
