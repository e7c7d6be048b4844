#pragma once
// The tokenizer interface every layer uses, and the loaders that pick an implementation.
//
// Two implementations exist: a native reader of Hugging Face tokenizer.json (BPE with byte fallback,
// matching the `tokenizers` library bit for bit) and a SentencePiece-backed one for checkpoints that
// ship only tokenizer.model. Special-token ids always come from the files, never from constants.
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gemma {

// Ids read from the tokenizer files; -1 when the file has no such token.
struct SpecialTokens {
  int bos = -1, eos = -1, pad = -1, unk = -1;
  int start_of_turn = -1, end_of_turn = -1;  // "<start_of_turn>", "<end_of_turn>"
  int start_of_image = -1, end_of_image = -1, image_soft_token = -1;
};

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;
  // Text to ids; no BOS is added.
  virtual std::vector<int> encode(std::string_view text) const = 0;
  // Ids to text; special/control tokens are dropped when skip_special is true. Ids outside the
  // vocabulary are dropped (as Hugging Face does), so sampled padding rows never break decoding.
  virtual std::string decode(const std::vector<int>& ids, bool skip_special = true) const = 0;
  // Number of ids, added tokens included.
  virtual int vocab_size() const = 0;
  // The vocabulary string of an id ("▁Hello", "<0x0A>"); throws gemma::Error when out of range.
  virtual std::string piece(int id) const = 0;
  virtual std::optional<int> piece_to_id(std::string_view piece) const = 0;
  // Special (Hugging Face special=true) or control/unknown (SentencePiece) tokens.
  virtual bool is_special(int id) const = 0;
  // "tokenizer.json" or "sentencepiece".
  virtual std::string kind() const = 0;
  // The file it was loaded from (after following a link stub).
  virtual std::string source_path() const = 0;

  const SpecialTokens& special() const { return special_; }
  // [bos] + encode(text), with exactly one BOS: when encode(text) already starts with BOS (the text
  // began with a literal "<bos>"), none is added. Throws gemma::Error when there is no BOS token.
  std::vector<int> encode_with_bos(std::string_view text) const;

 protected:
  SpecialTokens special_;
};

// tokenizer.json, plus tokenizer_config.json beside it when present (special-token names).
std::unique_ptr<Tokenizer> load_hf_tokenizer(const std::filesystem::path& tokenizer_json);
// A SentencePiece tokenizer.model, through the dlopen'ed libgemma_spm.so module.
std::unique_ptr<Tokenizer> load_sentencepiece_tokenizer(const std::filesystem::path& tokenizer_model);

// A checkpoint directory: uses tokenizer.json when present (native), else tokenizer.model
// (sentencepiece). When both exist they must agree (see check_tokenizers_agree); a disagreement is a
// gemma::Error naming the first differing id/piece/text. Neither file: an Error saying where it looked.
std::unique_ptr<Tokenizer> load_tokenizer(const std::filesystem::path& model_dir);

// Throws gemma::Error unless a tokenizer.json and a tokenizer.model describe the same tokenizer: the
// same piece for every SentencePiece id (tokenizer.json may only add extra added tokens after them),
// the same special ids (except Hugging Face-only added tokens) and the same ids for a set of probe
// texts. `hf` must come from load_hf_tokenizer.
void check_tokenizers_agree(const Tokenizer& hf, const Tokenizer& spm);

}  // namespace gemma
