#include "model/sentencepiece_tokenizer.h"

#include <dlfcn.h>

#include <cstdlib>
#include <mutex>
#include <system_error>

#include <fmt/format.h>

#include "build_info.h"
#include "common/error.h"
#include "common/files.h"

namespace gemma {
namespace fs = std::filesystem;

// The C functions of libgemma_spm.so (signatures as in model/sentencepiece_module.cpp).
struct SentencePieceModule {
  fs::path path;
  void* (*load)(const char* path, char* err, size_t err_capacity) = nullptr;
  void (*free)(void* handle) = nullptr;
  int (*vocab_size)(const void* handle) = nullptr;
  long (*encode)(const void* handle, const char* text, size_t length, int* out, size_t capacity, char* err,
                 size_t err_capacity) = nullptr;
  long (*decode)(const void* handle, const int* ids, size_t count, char* out, size_t capacity, char* err,
                 size_t err_capacity) = nullptr;
  const char* (*piece)(const void* handle, int id, size_t* length) = nullptr;
  int (*piece_to_id)(const void* handle, const char* piece, size_t length) = nullptr;
  int (*is_control)(const void* handle, int id) = nullptr;
  int (*is_unknown)(const void* handle, int id) = nullptr;
  int (*bos_id)(const void* handle) = nullptr;
  int (*eos_id)(const void* handle) = nullptr;
  int (*pad_id)(const void* handle) = nullptr;
  int (*unk_id)(const void* handle) = nullptr;
};

namespace {

constexpr size_t kErrorCapacity = 1024;

// The module goes into a link-map namespace of its own (dlmopen LM_ID_NEWLM), with its own copies of
// libsentencepiece, libstdc++ and libc: sentencepiece's protobuf 3.14 can then never bind to (or be
// bound by) libtorch's protobuf 3.21. Unlike RTLD_DEEPBIND, which the address sanitizer refuses, this
// works the same in sanitizer builds (the module itself stays uninstrumented). Only plain C data
// crosses the boundary, and memory is always freed on the side that allocated it.
void* open_isolated(const fs::path& path) { return dlmopen(LM_ID_NEWLM, path.c_str(), RTLD_NOW | RTLD_LOCAL); }

template <typename Function>
bool resolve(void* library, const char* name, Function& function, std::string& missing) {
  function = reinterpret_cast<Function>(dlsym(library, name));
  if (function == nullptr) missing = name;
  return function != nullptr;
}

// Resolves every function, or returns the name of the first missing one.
std::string resolve_all(void* library, SentencePieceModule& m) {
  std::string missing;
  resolve(library, "gemma_spm_load", m.load, missing) && resolve(library, "gemma_spm_free", m.free, missing) &&
      resolve(library, "gemma_spm_vocab_size", m.vocab_size, missing) &&
      resolve(library, "gemma_spm_encode", m.encode, missing) &&
      resolve(library, "gemma_spm_decode", m.decode, missing) &&
      resolve(library, "gemma_spm_piece", m.piece, missing) &&
      resolve(library, "gemma_spm_piece_to_id", m.piece_to_id, missing) &&
      resolve(library, "gemma_spm_is_control", m.is_control, missing) &&
      resolve(library, "gemma_spm_is_unknown", m.is_unknown, missing) &&
      resolve(library, "gemma_spm_bos_id", m.bos_id, missing) &&
      resolve(library, "gemma_spm_eos_id", m.eos_id, missing) &&
      resolve(library, "gemma_spm_pad_id", m.pad_id, missing) &&
      resolve(library, "gemma_spm_unk_id", m.unk_id, missing);
  return missing;
}

// The module of this process, opened on first use. A failure is not cached, so a later call (after
// the module was built or GEMMA_EVAL_SPM_MODULE set) can still succeed.
std::shared_ptr<const SentencePieceModule> process_module() {
  static std::mutex mutex;
  static std::shared_ptr<const SentencePieceModule> module;
  std::lock_guard<std::mutex> lock(mutex);
  if (!module) module = open_sentencepiece_module(sentencepiece_module_candidates());
  return module;
}

}  // namespace

std::vector<fs::path> sentencepiece_module_candidates() {
  const char* from_environment = std::getenv("GEMMA_EVAL_SPM_MODULE");
  if (from_environment != nullptr && *from_environment != '\0') return {fs::path(from_environment)};
  std::vector<fs::path> candidates{fs::path(GEMMA_EVAL_SPM_MODULE_PATH)};
  std::error_code ec;
  fs::path executable = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) candidates.push_back(executable.parent_path() / "libgemma_spm.so");
  return candidates;
}

std::shared_ptr<const SentencePieceModule> open_sentencepiece_module(const std::vector<fs::path>& candidates) {
  std::vector<std::string> failures;
  for (const fs::path& path : candidates) {
    // Never dlclose'd once it works: sentencepiece's protobuf keeps static state for the process.
    void* library = open_isolated(path);
    if (library == nullptr) {
      const char* reason = dlerror();
      failures.push_back(fmt::format("{} ({})", path.string(), reason ? reason : "unknown dlopen error"));
      continue;
    }
    auto module = std::make_shared<SentencePieceModule>();
    module->path = path;
    std::string missing = resolve_all(library, *module);
    if (missing.empty()) return module;
    failures.push_back(fmt::format("{} (has no function {}: not a libgemma_spm.so)", path.string(), missing));
    dlclose(library);
  }
  fail(
      "cannot load the sentencepiece module libgemma_spm.so, which reading tokenizer.model needs; tried: {}. "
      "Build the gemma_spm target or set GEMMA_EVAL_SPM_MODULE to the module's path",
      failures.empty() ? std::string("no paths") : fmt::format("{}", fmt::join(failures, "; ")));
}

SentencePieceTokenizer::SentencePieceTokenizer(std::shared_ptr<const SentencePieceModule> module,
                                               const fs::path& model_path)
    : module_(std::move(module)), source_(follow_link_stub(model_path)) {
  std::error_code ec;
  if (!fs::is_regular_file(source_, ec)) fail("SentencePiece model not found: {}", source_.string());
  char error[kErrorCapacity] = "";
  handle_ = module_->load(source_.c_str(), error, sizeof error);
  if (handle_ == nullptr) fail("{}: cannot load the SentencePiece model: {}", source_.string(), error);

  vocab_size_ = module_->vocab_size(handle_);
  special_ids_.resize(vocab_size_);
  for (int id = 0; id < vocab_size_; ++id)
    special_ids_[id] = module_->is_control(handle_, id) || module_->is_unknown(handle_, id);

  special_.unk = module_->unk_id(handle_);  // first: piece_to_id relies on it
  auto id_or_absent = [&](const char* name) { return piece_to_id(name).value_or(-1); };
  // The model's trainer spec names bos/eos/pad; a model whose spec names pieces it does not have (the
  // rebuilt reference model keeps the default "<s>"/"</s>") falls back to Gemma's piece names.
  auto model_id_or_named = [&](int model_id, const char* name) {
    return model_id >= 0 ? model_id : id_or_absent(name);
  };
  special_.bos = model_id_or_named(module_->bos_id(handle_), "<bos>");
  special_.eos = model_id_or_named(module_->eos_id(handle_), "<eos>");
  special_.pad = model_id_or_named(module_->pad_id(handle_), "<pad>");
  special_.start_of_turn = id_or_absent("<start_of_turn>");
  special_.end_of_turn = id_or_absent("<end_of_turn>");
  special_.start_of_image = id_or_absent("<start_of_image>");
  special_.end_of_image = id_or_absent("<end_of_image>");
  special_.image_soft_token = id_or_absent("<image_soft_token>");
}

SentencePieceTokenizer::~SentencePieceTokenizer() {
  if (handle_ != nullptr) module_->free(handle_);
}

std::vector<int> SentencePieceTokenizer::encode(std::string_view text) const {
  // Usually one id per byte at most; normalization can expand text, hence the size query on retry.
  std::vector<int> ids(text.size() + 16);
  char error[kErrorCapacity] = "";
  for (int attempt = 0; attempt < 2; ++attempt) {
    long count = module_->encode(handle_, text.data(), text.size(), ids.data(), ids.size(), error, sizeof error);
    if (count < 0) fail("{}: sentencepiece cannot encode the text: {}", source_.string(), error);
    if (static_cast<size_t>(count) <= ids.size()) {
      ids.resize(static_cast<size_t>(count));
      return ids;
    }
    ids.resize(static_cast<size_t>(count));
  }
  fail("{}: sentencepiece gave a different length when encoding the same text twice", source_.string());
}

std::string SentencePieceTokenizer::decode_run(const std::vector<int>& ids) const {
  if (ids.empty()) return {};
  std::string text(ids.size() * 8 + 64, '\0');
  char error[kErrorCapacity] = "";
  for (int attempt = 0; attempt < 2; ++attempt) {
    long length = module_->decode(handle_, ids.data(), ids.size(), text.data(), text.size(), error, sizeof error);
    if (length < 0) fail("{}: sentencepiece cannot decode ids: {}", source_.string(), error);
    if (static_cast<size_t>(length) <= text.size()) {
      text.resize(static_cast<size_t>(length));
      return text;
    }
    text.resize(static_cast<size_t>(length));
  }
  fail("{}: sentencepiece gave a different length when decoding the same ids twice", source_.string());
}

std::string SentencePieceTokenizer::decode(const std::vector<int>& ids, bool skip_special) const {
  std::string text;
  std::vector<int> run;  // ordinary ids since the last special one
  for (int id : ids) {
    if (id < 0 || id >= vocab_size_) continue;  // unknown ids are dropped, as tokenizer.json decoding does
    if (!special_ids_[id]) {
      run.push_back(id);
      continue;
    }
    text += decode_run(run);
    run.clear();
    if (!skip_special) text += piece(id);
  }
  return text + decode_run(run);
}

std::string SentencePieceTokenizer::piece(int id) const {
  size_t length = 0;
  const char* bytes = module_->piece(handle_, id, &length);
  if (bytes == nullptr) fail("token id {} is not in the vocabulary of {} ({} ids)", id, source_.string(), vocab_size_);
  return std::string(bytes, length);
}

std::optional<int> SentencePieceTokenizer::piece_to_id(std::string_view text) const {
  int id = module_->piece_to_id(handle_, text.data(), text.size());
  if (id < 0 || id >= vocab_size_) return std::nullopt;
  // sentencepiece answers unk_id for pieces it does not know.
  if (id == special_.unk && piece(id) != text) return std::nullopt;
  return id;
}

bool SentencePieceTokenizer::is_special(int id) const { return id >= 0 && id < vocab_size_ && special_ids_[id]; }

std::unique_ptr<Tokenizer> load_sentencepiece_tokenizer(const fs::path& tokenizer_model) {
  return std::make_unique<SentencePieceTokenizer>(process_module(), tokenizer_model);
}

}  // namespace gemma
