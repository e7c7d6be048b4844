#pragma once
// A Tokenizer backed by the sentencepiece library, for checkpoints that ship only tokenizer.model.
//
// sentencepiece lives in a separate module, libgemma_spm.so (model/sentencepiece_module.cpp), opened
// with dlmopen(LM_ID_NEWLM, RTLD_NOW | RTLD_LOCAL) into a link-map namespace of its own: Debian's
// libsentencepiece exports an embedded protobuf 3.14 that crashes a process which also loads
// libtorch's protobuf 3.21. This library
// (gemma_core) therefore never links sentencepiece; it only calls the module's C functions.
//
// Where the module is looked for: $GEMMA_EVAL_SPM_MODULE when set (and nowhere else), otherwise the
// build folder's libgemma_spm.so (GEMMA_EVAL_SPM_MODULE_PATH in build_info.h), then libgemma_spm.so
// beside the running executable.
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "model/tokenizer.h"

namespace gemma {

struct SentencePieceModule;  // the opened module and its C functions (sentencepiece_tokenizer.cpp)

// The paths tried, in order, by the process-wide module loader.
std::vector<std::filesystem::path> sentencepiece_module_candidates();

// Opens the first candidate that loads; the gemma::Error otherwise lists every path with its dlerror().
std::shared_ptr<const SentencePieceModule> open_sentencepiece_module(
    const std::vector<std::filesystem::path>& candidates);

class SentencePieceTokenizer final : public Tokenizer {
 public:
  SentencePieceTokenizer(std::shared_ptr<const SentencePieceModule> module, const std::filesystem::path& model_path);
  ~SentencePieceTokenizer() override;
  SentencePieceTokenizer(const SentencePieceTokenizer&) = delete;
  SentencePieceTokenizer& operator=(const SentencePieceTokenizer&) = delete;

  std::vector<int> encode(std::string_view text) const override;
  // Runs of ordinary ids are detokenized by sentencepiece; control/unknown ids are dropped when
  // skip_special, else written as their piece (sentencepiece itself would always drop them).
  std::string decode(const std::vector<int>& ids, bool skip_special = true) const override;
  int vocab_size() const override { return vocab_size_; }
  std::string piece(int id) const override;
  std::optional<int> piece_to_id(std::string_view piece) const override;
  bool is_special(int id) const override;
  std::string kind() const override { return "sentencepiece"; }
  std::string source_path() const override { return source_.string(); }

 private:
  std::string decode_run(const std::vector<int>& ids) const;

  std::shared_ptr<const SentencePieceModule> module_;
  void* handle_ = nullptr;
  std::filesystem::path source_;
  int vocab_size_ = 0;
  std::vector<bool> special_ids_;  // control or unknown, cached: decode asks for every id
};

}  // namespace gemma
