#include "model/tokenizer.h"

#include <algorithm>
#include <system_error>

#include <fmt/format.h>

#include "common/error.h"
#include "model/hf_tokenizer.h"

namespace gemma {
namespace fs = std::filesystem;

std::vector<int> Tokenizer::encode_with_bos(std::string_view text) const {
  if (special_.bos < 0) fail("{} has no BOS token, so a BOS cannot be prepended", source_path());
  std::vector<int> ids = encode(text);
  if (!ids.empty() && ids.front() == special_.bos) return ids;
  ids.insert(ids.begin(), special_.bos);
  return ids;
}

namespace {

// A piece or text made printable for an error message: control bytes become escapes.
std::string printable(std::string_view text, size_t max_length = 80) {
  std::string out;
  for (char c : text.substr(0, max_length)) {
    unsigned char byte = static_cast<unsigned char>(c);
    if (c == '\n')
      out += "\\n";
    else if (c == '\t')
      out += "\\t";
    else if (c == '"' || c == '\\')
      out += std::string("\\") + c;
    else if (byte < 0x20 || byte == 0x7F)
      out += fmt::format("\\x{:02x}", byte);
    else
      out += c;
  }
  if (text.size() > max_length) out += "...";
  return "\"" + out + "\"";
}

std::string join_ids(const std::vector<int>& ids) { return fmt::format("[{}]", fmt::join(ids, ", ")); }

std::string disagreement(const Tokenizer& hf, const Tokenizer& spm) {
  return fmt::format("{} and {} disagree", hf.source_path(), spm.source_path());
}

// tokenizer.json may extend the SentencePiece vocabulary only with added tokens (Gemma 3 adds
// <image_soft_token> = 262144).
void check_vocab_sizes(const HfTokenizer& hf, const Tokenizer& spm) {
  if (hf.vocab_size() < spm.vocab_size())
    fail("{}: tokenizer.json has {} ids but tokenizer.model has {}", disagreement(hf, spm), hf.vocab_size(),
         spm.vocab_size());
  for (int id = spm.vocab_size(); id < hf.vocab_size(); ++id)
    if (!hf.is_added_token(id))
      fail(
          "{}: tokenizer.json has {} ids and tokenizer.model {}, but id {} ({}) is not an added token of "
          "tokenizer.json",
          disagreement(hf, spm), hf.vocab_size(), spm.vocab_size(), id, printable(hf.piece(id)));
}

void check_pieces(const Tokenizer& hf, const Tokenizer& spm) {
  for (int id = 0; id < spm.vocab_size(); ++id) {
    std::string spm_piece = spm.piece(id), hf_piece = hf.piece(id);
    if (spm_piece != hf_piece)
      fail("{}: id {} is {} in tokenizer.json but {} in tokenizer.model", disagreement(hf, spm), id,
           printable(hf_piece), printable(spm_piece));
  }
}

void check_special_ids(const HfTokenizer& hf, const Tokenizer& spm) {
  const SpecialTokens& h = hf.special();
  const SpecialTokens& s = spm.special();
  const std::pair<const char*, std::pair<int, int>> fields[] = {
      {"bos", {h.bos, s.bos}},
      {"eos", {h.eos, s.eos}},
      {"pad", {h.pad, s.pad}},
      {"unk", {h.unk, s.unk}},
      {"<start_of_turn>", {h.start_of_turn, s.start_of_turn}},
      {"<end_of_turn>", {h.end_of_turn, s.end_of_turn}},
      {"<start_of_image>", {h.start_of_image, s.start_of_image}},
      {"<end_of_image>", {h.end_of_image, s.end_of_image}},
      {"<image_soft_token>", {h.image_soft_token, s.image_soft_token}},
  };
  for (const auto& [name, ids] : fields) {
    auto [hf_id, spm_id] = ids;
    bool only_in_hf_added_tokens = spm_id < 0 && hf_id >= spm.vocab_size() && hf.is_added_token(hf_id);
    if (hf_id != spm_id && !only_in_hf_added_tokens)
      fail("{}: the {} token is id {} in tokenizer.json but {} in tokenizer.model", disagreement(hf, spm), name, hf_id,
           spm_id);
  }
}

// Texts both tokenizers must split identically. Special tokens written as text are left out on
// purpose: tokenizers matches them, SentencePiece encodes CONTROL pieces as plain text.
const char* const kProbeTexts[] = {
    "Hello, world!",
    "  two leading spaces, internal    runs and a trailing space ",
    "line one\nline two\n\nline four\n\n\n",
    "\ttab\tseparated\tvalues\n",
    "def fibonacci(n):\n    if n < 2:\n        return n\n    return fibonacci(n - 1) + fibonacci(n - 2)\n",
    "3.14159265358979 1234567890 2025-03-12 $1,299.99",
    "Ünïcödé café, naïve Zürich; Привет, мир! αβγδε",
    "日本語のテキストを正しくトークン化できますか？ हिन्दी भाषा",
    "Emoji: 😀🎉👍🏽 👨\u200d👩\u200d👧 and byte fallback \x07 𝔘𝔫𝔦",
    "The quick brown fox jumps over the lazy dog. camelCaseIdentifiers and snake_case_names",
};

void check_probe_texts(const Tokenizer& hf, const Tokenizer& spm) {
  for (const char* text : kProbeTexts) {
    std::vector<int> hf_ids = hf.encode(text), spm_ids = spm.encode(text);
    if (hf_ids == spm_ids) continue;
    auto [hf_it, spm_it] = std::mismatch(hf_ids.begin(), hf_ids.end(), spm_ids.begin(), spm_ids.end());
    fail("{} on the text {}: tokenizer.json gives {} but tokenizer.model gives {} (first difference at token {})",
         disagreement(hf, spm), printable(text), join_ids(hf_ids), join_ids(spm_ids), hf_it - hf_ids.begin());
  }
}

}  // namespace

void check_tokenizers_agree(const Tokenizer& hf_tokenizer, const Tokenizer& spm) {
  const auto* hf = dynamic_cast<const HfTokenizer*>(&hf_tokenizer);
  if (hf == nullptr) fail("check_tokenizers_agree: {} is not a tokenizer.json tokenizer", hf_tokenizer.source_path());
  check_vocab_sizes(*hf, spm);
  check_pieces(*hf, spm);
  check_special_ids(*hf, spm);
  check_probe_texts(*hf, spm);
}

std::unique_ptr<Tokenizer> load_tokenizer(const fs::path& model_dir) {
  std::error_code ec;
  if (!fs::is_directory(model_dir, ec))
    fail("tokenizer folder {} does not exist or is not a folder", model_dir.string());
  const fs::path json_path = model_dir / "tokenizer.json";
  const fs::path model_path = model_dir / "tokenizer.model";
  const bool has_json = fs::exists(json_path, ec);
  const bool has_model = fs::exists(model_path, ec);
  if (!has_json && !has_model)
    fail("no tokenizer in {}: looked for {} and {}", model_dir.string(), json_path.string(), model_path.string());
  if (!has_json) return load_sentencepiece_tokenizer(model_path);

  std::unique_ptr<Tokenizer> hf = load_hf_tokenizer(json_path);
  if (has_model) check_tokenizers_agree(*hf, *load_sentencepiece_tokenizer(model_path));
  return hf;
}

}  // namespace gemma
