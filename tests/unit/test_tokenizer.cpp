// Tokenizers: the native tokenizer.json BPE against the reference vectors (produced with a port of
// Hugging Face tokenizers), the sentencepiece module against the rebuilt Gemma 3 model, and the
// folder loader's agreement check between the two.
#include <catch2/catch.hpp>

#include "tests/support/temp_dir.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/files.h"
#include "model/hf_tokenizer.h"
#include "model/sentencepiece_tokenizer.h"
#include "model/tokenizer.h"

namespace fs = std::filesystem;
using Catch::Matchers::Contains;
using gemma::Tokenizer;
using gemma::test::TempDir;
using json = nlohmann::json;

namespace {

const fs::path kShared = GEMMA_TEST_SHARED_DIR;
const fs::path kTokenizerJson = kShared / "data/tokenizer/gemma3/tokenizer.json";
const fs::path kTokenizerConfig = kShared / "data/tokenizer/gemma3/tokenizer_config.json";
const fs::path kApproxSpmModel = kShared / "reference/tokenizer/gemma3-approx.spm.model";

// Loading the real tokenizer takes most of a second, so each is loaded once per test program.
const Tokenizer& gemma3_hf() {
  static const std::unique_ptr<Tokenizer> tokenizer = gemma::load_hf_tokenizer(kTokenizerJson);
  return *tokenizer;
}

const Tokenizer& gemma3_spm() {
  static const std::unique_ptr<Tokenizer> tokenizer = gemma::load_sentencepiece_tokenizer(kApproxSpmModel);
  return *tokenizer;
}

const json& reference_vectors() {
  static const json vectors = json::parse(gemma::read_file(kShared / "reference/tokenizer/vectors.json"))["vectors"];
  return vectors;
}

int id_of(const Tokenizer& tokenizer, const std::string& piece) {
  auto id = tokenizer.piece_to_id(piece);
  REQUIRE(id.has_value());
  return *id;
}

void write_text(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  REQUIRE(out.good());
}

// A tokenizer.json in Gemma 3's shape with the given vocabulary and merges.
json small_tokenizer_json(const json& vocab, const json& merges) {
  json special = json::array();
  const char* names[] = {"<pad>", "<eos>", "<bos>", "<unk>"};
  for (int id = 0; id < 4; ++id)
    special.push_back({{"id", id},
                       {"content", names[id]},
                       {"single_word", false},
                       {"lstrip", false},
                       {"rstrip", false},
                       {"normalized", false},
                       {"special", true}});
  return {
      {"version", "1.0"},
      {"added_tokens", special},
      {"normalizer", {{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", "\u2581"}}},
      {"pre_tokenizer",
       {{"type", "Split"}, {"pattern", {{"String", " "}}}, {"behavior", "MergedWithPrevious"}, {"invert", false}}},
      {"decoder",
       {{"type", "Sequence"},
        {"decoders", json::array({{{"type", "Replace"}, {"pattern", {{"String", "\u2581"}}}, {"content", " "}},
                                  {{"type", "ByteFallback"}},
                                  {{"type", "Fuse"}}})}}},
      {"model",
       {{"type", "BPE"},
        {"unk_token", "<unk>"},
        {"byte_fallback", true},
        {"fuse_unk", true},
        {"vocab", vocab},
        {"merges", merges}}},
  };
}

gemma::HfTokenizer make_small(const json& tokenizer_json) {
  return gemma::HfTokenizer(tokenizer_json.dump(), "", "small/tokenizer.json");
}

// vocab: the four specials, then the given pieces from id 4 on.
json vocab_of(const std::vector<std::string>& pieces) {
  json vocab = {{"<pad>", 0}, {"<eos>", 1}, {"<bos>", 2}, {"<unk>", 3}};
  for (size_t i = 0; i < pieces.size(); ++i) vocab[pieces[i]] = 4 + static_cast<int>(i);
  return vocab;
}

std::string spm_train_program() {
#ifdef GEMMA_TEST_SPM_TRAIN
  return GEMMA_TEST_SPM_TRAIN;
#else
  return "spm_train";
#endif
}

// Trains a small BPE SentencePiece model with Gemma's special ids; returns the .model path.
fs::path train_small_spm_model(const fs::path& dir) {
  std::string corpus;
  for (int i = 0; i < 200; ++i)
    corpus += "Hello, world! The quick brown fox jumps over the lazy dog. Tokenizers split words into pieces.\n";
  write_text(dir / "corpus.txt", corpus);
  std::string command = spm_train_program() + " --input=" + (dir / "corpus.txt").string() +
                        " --model_prefix=" + (dir / "small").string() +
                        " --model_type=bpe --vocab_size=120 --character_coverage=1.0"
                        " --normalization_rule_name=identity --add_dummy_prefix=false"
                        " --remove_extra_whitespaces=false --pad_id=0 --eos_id=1 --bos_id=2 --unk_id=3"
                        " --pad_piece=\"<pad>\" --eos_piece=\"<eos>\" --bos_piece=\"<bos>\" --unk_piece=\"<unk>\""
                        " --minloglevel=2 > " +
                        (dir / "spm_train.log").string() + " 2>&1";
  INFO("spm_train command: " << command);
  REQUIRE(std::system(command.c_str()) == 0);
  return dir / "small.model";
}

// A tokenizer.json with exactly the pieces of `spm` (and no merges), for agreement tests.
json tokenizer_json_with_pieces_of(const Tokenizer& spm) {
  std::vector<std::string> pieces;
  for (int id = 4; id < spm.vocab_size(); ++id) pieces.push_back(spm.piece(id));
  json tokenizer = small_tokenizer_json(vocab_of(pieces), json::array());
  tokenizer["model"]["byte_fallback"] = false;
  return tokenizer;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// tokenizer.json against the reference vectors
// ---------------------------------------------------------------------------------------------

TEST_CASE("tokenizer.json reproduces every reference vector", "[tokenizer]") {
  const Tokenizer& tokenizer = gemma3_hf();
  REQUIRE(reference_vectors().size() == 17);
  for (const json& vector : reference_vectors()) {
    const std::string text = vector["text"];
    INFO("category " << vector["category"] << ", text " << json(text).dump());
    const auto ids = vector["ids"].get<std::vector<int>>();
    CHECK(tokenizer.encode(text) == ids);

    std::vector<std::string> pieces;
    for (int id : ids) pieces.push_back(tokenizer.piece(id));
    CHECK(pieces == vector["pieces"].get<std::vector<std::string>>());

    // The file's `decoded` is decode(ids, skip_special_tokens=False).
    CHECK(tokenizer.decode(ids, false) == vector["decoded"].get<std::string>());

    // ids_with_special_tokens is always [2] + ids. encode_with_bos promises exactly one BOS, so for
    // the text that starts with a literal "<bos>" it differs from Hugging Face's double BOS.
    const auto with_special = vector["ids_with_special_tokens"].get<std::vector<int>>();
    if (!ids.empty() && ids.front() == tokenizer.special().bos)
      CHECK(tokenizer.encode_with_bos(text) == ids);
    else
      CHECK(tokenizer.encode_with_bos(text) == with_special);
  }
}

TEST_CASE("tokenizer.json decode skips special tokens only when asked", "[tokenizer]") {
  const Tokenizer& tokenizer = gemma3_hf();
  for (const json& vector : reference_vectors()) {
    const auto ids = vector["ids"].get<std::vector<int>>();
    bool has_special = std::any_of(ids.begin(), ids.end(), [&](int id) { return tokenizer.is_special(id); });
    if (!has_special) CHECK(tokenizer.decode(ids) == vector["text"].get<std::string>());
  }
  const std::vector<int> ids{2, 9259, 106, 1};
  CHECK(tokenizer.decode(ids) == "Hello");
  CHECK(tokenizer.decode(ids, false) == "<bos>Hello<end_of_turn><eos>");
}

TEST_CASE("tokenizer.json facts from the spec", "[tokenizer]") {
  const Tokenizer& tokenizer = gemma3_hf();
  CHECK(tokenizer.kind() == "tokenizer.json");
  CHECK(tokenizer.vocab_size() == 262145);
  CHECK(tokenizer.encode("\n") == std::vector<int>{107});
  CHECK(tokenizer.encode("\n\n") == std::vector<int>{108});
  CHECK(tokenizer.encode("\n\n\n\n") == std::vector<int>{110});
  CHECK(tokenizer.encode("  ") == std::vector<int>{138});
  CHECK(tokenizer.encode("\xE2\x96\x81\xE2\x96\x81") == std::vector<int>{138});  // literal "▁▁" in raw text
  CHECK(tokenizer.encode("Hello") == std::vector<int>{9259});
  CHECK(tokenizer.encode(" Hello") == std::vector<int>{26352});
  CHECK(tokenizer.piece(26352) == "\xE2\x96\x81Hello");
  CHECK(tokenizer.piece(107) == "\n");
  CHECK(tokenizer.piece(238 + 0x0A) == "<0x0A>");
  CHECK(tokenizer.encode("<start_of_turn>") == std::vector<int>{105});
  CHECK(tokenizer.encode("<end_of_turn>") == std::vector<int>{106});
  CHECK(tokenizer.encode("") == std::vector<int>{});

  const gemma::SpecialTokens& special = tokenizer.special();
  CHECK(special.pad == 0);
  CHECK(special.eos == 1);  // <eos>; the config's eos_token <end_of_turn> is end_of_turn
  CHECK(special.bos == 2);
  CHECK(special.unk == 3);
  CHECK(special.start_of_turn == 105);
  CHECK(special.end_of_turn == 106);
  CHECK(special.start_of_image == 255999);
  CHECK(special.end_of_image == 256000);
  CHECK(special.image_soft_token == 262144);

  CHECK(tokenizer.piece(262144) == "<image_soft_token>");
  CHECK(tokenizer.piece_to_id("<image_soft_token>") == 262144);
  CHECK(tokenizer.piece_to_id("\xE2\x96\x81Hello") == 26352);
  CHECK_FALSE(tokenizer.piece_to_id("no such piece at all").has_value());
  CHECK(tokenizer.is_special(2));
  CHECK(tokenizer.is_special(106));
  CHECK(tokenizer.is_special(262144));
  CHECK_FALSE(tokenizer.is_special(4));  // <mask> is an added token but not special
  CHECK_FALSE(tokenizer.is_special(107));
  CHECK_FALSE(tokenizer.is_special(9259));
  CHECK_FALSE(tokenizer.is_special(-1));
  CHECK_FALSE(tokenizer.is_special(1 << 30));
  CHECK_THROWS_AS(tokenizer.piece(262145), gemma::Error);
  CHECK_THROWS_AS(tokenizer.piece(-1), gemma::Error);
}

TEST_CASE("added tokens are matched leftmost-longest in the raw text", "[tokenizer]") {
  const Tokenizer& tokenizer = gemma3_hf();
  // The longest newline run wins at the first position; the rest is matched after it.
  std::string newlines(33, '\n');
  CHECK(tokenizer.encode(newlines) == std::vector<int>{id_of(tokenizer, std::string(31, '\n')), 108});
  CHECK(tokenizer.encode("<start_of_turn><end_of_turn>") == std::vector<int>{105, 106});
  // Not a full token: ordinary text.
  auto partial = tokenizer.encode("<start_of_tur");
  CHECK(std::find(partial.begin(), partial.end(), 105) == partial.end());
  CHECK(tokenizer.decode(partial) == "<start_of_tur");
  // HTML-ish added tokens are matched anywhere, even glued to words.
  const int table = id_of(tokenizer, "<table>");
  auto ids = tokenizer.encode("x<table>y");
  CHECK(ids.size() == 3);
  CHECK(ids[1] == table);
  CHECK(tokenizer.encode("\t\t") == std::vector<int>{id_of(tokenizer, "\t\t")});
}

TEST_CASE("decode joins byte-fallback tokens and replaces invalid UTF-8 like tokenizers", "[tokenizer]") {
  const Tokenizer& tokenizer = gemma3_hf();
  auto byte = [&](int value) { return 238 + value; };  // <0x00> is id 238
  REQUIRE(tokenizer.piece(byte(0xE2)) == "<0xE2>");
  CHECK(tokenizer.decode({byte(0xE2), byte(0x82), byte(0xAC)}) == "\xE2\x82\xAC");  // €
  // An incomplete group: one U+FFFD per byte of the group.
  CHECK(tokenizer.decode({byte(0xF0), byte(0x9D), 9259}) == "\xEF\xBF\xBD\xEF\xBF\xBDHello");
  // Ids outside the vocabulary (the model's embedding has more rows) are dropped.
  CHECK(tokenizer.decode({9259, 262200, -5}) == "Hello");
  // Invalid UTF-8 in the input falls back to bytes rather than failing.
  auto ids =
      tokenizer.encode(std::string("a\xFF"
                                   "b"));
  CHECK(std::find(ids.begin(), ids.end(), byte(0xFF)) != ids.end());
}

TEST_CASE("the tiny-text fixture ids are prefixes of encode(source_text)", "[tokenizer]") {
  // tiny-text/tokenizer.json and tokenizer_config.json are link stubs to data/tokenizer/gemma3.
  auto tokenizer = gemma::load_tokenizer(kShared / "reference/tiny-text");
  CHECK(tokenizer->kind() == "tokenizer.json");
  CHECK(fs::path(tokenizer->source_path()).filename() == "tokenizer.json");
  CHECK(fs::file_size(tokenizer->source_path()) > 1000000);

  json inputs = json::parse(gemma::read_file(kShared / "reference/tiny-text/inputs.json"));
  REQUIRE_FALSE(inputs["sequences"].empty());
  for (const json& sequence : inputs["sequences"]) {
    INFO("sequence " << sequence["name"]);
    auto expected = sequence["ids"].get<std::vector<int>>();
    REQUIRE(expected.front() == 2);
    expected.erase(expected.begin());
    auto ids = tokenizer->encode(sequence["source_text"].get<std::string>());
    REQUIRE(ids.size() >= expected.size());
    CHECK(std::vector<int>(ids.begin(), ids.begin() + expected.size()) == expected);
  }
}

TEST_CASE("a long text without newlines (one BPE word) encodes quickly and round-trips", "[tokenizer]") {
  const Tokenizer& tokenizer = gemma3_hf();
  std::string text;
  for (int i = 0; text.size() < 200000; ++i)
    text += "The quick brown fox jumps over the lazy dog, sentence " + std::to_string(i) + ". Ünïcödé 日本語 😀 ";
  auto start = std::chrono::steady_clock::now();
  auto ids = tokenizer.encode(text);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  CHECK(tokenizer.decode(ids) == text);
  // A quadratic merge loop would take minutes here; a generous bound keeps the test stable.
  CHECK(seconds < 2.0);
}

// ---------------------------------------------------------------------------------------------
// BPE details and tokenizer.json validation, on small hand-written files
// ---------------------------------------------------------------------------------------------

TEST_CASE("BPE applies the lowest-rank merge first, leftmost on ties", "[tokenizer]") {
  // ids: a=4 b=5 c=6 ab=7 bc=8 abc=9 aa=10
  json vocab = vocab_of({"a", "b", "c", "ab", "bc", "abc", "aa"});
  json merges = json::array(
      {json::array({"b", "c"}), json::array({"a", "b"}), json::array({"a", "bc"}), json::array({"a", "a"})});
  auto tokenizer = make_small(small_tokenizer_json(vocab, merges));
  CHECK(tokenizer.encode("abc") == std::vector<int>{9});       // b+c first, then a+bc
  CHECK(tokenizer.encode("abcab") == std::vector<int>{9, 7});  // bc, then ab, then a+bc
  CHECK(tokenizer.encode("aaa") == std::vector<int>{10, 4});   // leftmost pair first
  CHECK(tokenizer.encode("aaaa") == std::vector<int>{10, 10});
  // "d" has no piece and no byte tokens exist here: <unk>, consecutive unknowns fused.
  CHECK(tokenizer.encode("adda") == std::vector<int>{4, 3, 4});
  CHECK(tokenizer.vocab_size() == 11);
}

TEST_CASE("the legacy \"a b\" merges format is read too", "[tokenizer]") {
  json vocab = vocab_of({"a", "b", "ab"});
  auto tokenizer = make_small(small_tokenizer_json(vocab, json::array({"a b"})));
  CHECK(tokenizer.encode("abab") == std::vector<int>{6, 6});
}

TEST_CASE("byte fallback without <unk> fusing and the Split pre-tokenizer", "[tokenizer]") {
  std::vector<std::string> pieces{"x", "\xE2\x96\x81"};
  for (int b = 0; b < 256; ++b) pieces.push_back(fmt::format("<0x{:02X}>", b));
  json tokenizer_json = small_tokenizer_json(vocab_of(pieces), json::array());
  auto tokenizer = make_small(tokenizer_json);
  // "é" is not a piece: its two UTF-8 bytes become <0xC3> <0xA9> (ids 6 + byte).
  CHECK(tokenizer.encode("x\xC3\xA9") == std::vector<int>{4, 6 + 0xC3, 6 + 0xA9});
  CHECK(tokenizer.decode({4, 6 + 0xC3, 6 + 0xA9}) == "x\xC3\xA9");

  // Split on "▁" (after normalization), MergedWithPrevious: "x▁▁x" -> "x▁", "▁", "x".
  tokenizer_json["pre_tokenizer"]["pattern"]["String"] = "\xE2\x96\x81";
  json merged_vocab = vocab_of({"x", "\xE2\x96\x81", "x\xE2\x96\x81", "\xE2\x96\x81\xE2\x96\x81", "\xE2\x96\x81x"});
  tokenizer_json["model"]["vocab"] = merged_vocab;
  tokenizer_json["model"]["byte_fallback"] = false;
  tokenizer_json["model"]["merges"] =
      json::array({json::array({"x", "\xE2\x96\x81"}), json::array({"\xE2\x96\x81", "\xE2\x96\x81"}),
                   json::array({"\xE2\x96\x81", "x"})});
  auto split = make_small(tokenizer_json);
  CHECK(split.encode("x  x") == std::vector<int>{6, 5, 4});
  CHECK(split.encode(" x") == std::vector<int>{5, 4});
}

TEST_CASE("tokenizer.json features this reader does not implement are refused", "[tokenizer]") {
  json base = small_tokenizer_json(vocab_of({"a"}), json::array());

  json regex_normalizer = base;
  regex_normalizer["normalizer"] = {{"type", "Replace"}, {"pattern", {{"Regex", "\\s+"}}}, {"content", " "}};
  CHECK_THROWS_WITH(make_small(regex_normalizer), Contains("String") && Contains("small/tokenizer.json"));

  json nfkc = base;
  nfkc["normalizer"] = {{"type", "NFKC"}};
  CHECK_THROWS_WITH(make_small(nfkc), Contains("NFKC"));

  json lstrip = base;
  lstrip["added_tokens"][1]["lstrip"] = true;
  CHECK_THROWS_WITH(make_small(lstrip), Contains("lstrip") && Contains("<eos>"));

  json wordpiece = base;
  wordpiece["model"]["type"] = "WordPiece";
  CHECK_THROWS_WITH(make_small(wordpiece), Contains("WordPiece"));

  json bad_merge = base;
  bad_merge["model"]["merges"] = json::array({json::array({"a", "z"})});
  CHECK_THROWS_WITH(make_small(bad_merge), Contains("merges[0]") && Contains("\"z\""));

  json bad_vocab = base;
  bad_vocab["model"]["vocab"]["b"] = "five";
  CHECK_THROWS_WITH(make_small(bad_vocab), Contains("model.vocab[\"b\"]"));
}

TEST_CASE("tokenizer file errors name the file", "[tokenizer]") {
  TempDir dir;
  CHECK_THROWS_WITH(gemma::load_hf_tokenizer(dir.path / "missing.json"), Contains("missing.json"));
  write_text(dir.path / "tokenizer.json", "{\"model\": [1, 2");
  CHECK_THROWS_WITH(gemma::load_hf_tokenizer(dir.path / "tokenizer.json"),
                    Contains((dir.path / "tokenizer.json").string()) && Contains("invalid JSON"));
  write_text(dir.path / "tokenizer.json", "[]");
  CHECK_THROWS_WITH(gemma::load_hf_tokenizer(dir.path / "tokenizer.json"), Contains("not a tokenizer.json"));
}

// ---------------------------------------------------------------------------------------------
// SentencePiece through the dlopen'ed module
// ---------------------------------------------------------------------------------------------

TEST_CASE("the sentencepiece module reproduces the reference vectors with the rebuilt model",
          "[tokenizer][sentencepiece]") {
  const Tokenizer& tokenizer = gemma3_spm();
  CHECK(tokenizer.kind() == "sentencepiece");
  CHECK(tokenizer.vocab_size() == 262144);
  for (const json& vector : reference_vectors()) {
    const std::string text = vector["text"];
    INFO("category " << vector["category"] << ", text " << json(text).dump());
    if (vector["spm_approx_equal"].get<bool>()) {
      const auto ids = vector["ids"].get<std::vector<int>>();
      CHECK(tokenizer.encode(text) == ids);
      CHECK(tokenizer.decode(ids, false) == vector["decoded"].get<std::string>());
    } else {
      // Literal "<bos>"/"<eos>": SentencePiece never matches CONTROL pieces inside text.
      CHECK(tokenizer.encode(text) == vector["spm_approx_ids"].get<std::vector<int>>());
    }
  }
}

TEST_CASE("sentencepiece special ids, pieces and decoding", "[tokenizer][sentencepiece]") {
  const Tokenizer& tokenizer = gemma3_spm();
  const gemma::SpecialTokens& special = tokenizer.special();
  CHECK(special.pad == 0);
  CHECK(special.eos == 1);
  CHECK(special.bos == 2);
  CHECK(special.unk == 3);
  CHECK(special.start_of_turn == 105);
  CHECK(special.end_of_turn == 106);
  CHECK(special.start_of_image == 255999);
  CHECK(special.end_of_image == 256000);
  CHECK(special.image_soft_token == -1);  // only tokenizer.json adds it

  CHECK(tokenizer.piece(26352) == "\xE2\x96\x81Hello");
  CHECK(tokenizer.piece_to_id("\xE2\x96\x81Hello") == 26352);
  CHECK(tokenizer.piece_to_id("<unk>") == 3);
  CHECK_FALSE(tokenizer.piece_to_id("no such piece at all").has_value());
  CHECK_THROWS_AS(tokenizer.piece(262144), gemma::Error);
  CHECK(tokenizer.is_special(2));
  CHECK(tokenizer.is_special(3));
  CHECK_FALSE(tokenizer.is_special(105));  // USER_DEFINED in this model
  CHECK_FALSE(tokenizer.is_special(9259));

  CHECK(tokenizer.encode_with_bos("Hello") == std::vector<int>{2, 9259});
  const std::vector<int> ids{2, 9259, 236764, 1902, 1, 262200};
  CHECK(tokenizer.decode(ids) == "Hello, world");
  CHECK(tokenizer.decode(ids, false) == "<bos>Hello, world<eos>");
}

TEST_CASE("sentencepiece load failures say what was tried", "[tokenizer][sentencepiece]") {
  CHECK_THROWS_WITH(gemma::open_sentencepiece_module({"/nonexistent/libgemma_spm.so"}),
                    Contains("/nonexistent/libgemma_spm.so") && Contains("GEMMA_EVAL_SPM_MODULE"));

  const char* saved = std::getenv("GEMMA_EVAL_SPM_MODULE");
  std::string saved_value = saved ? saved : "";
  setenv("GEMMA_EVAL_SPM_MODULE", "/elsewhere/libgemma_spm.so", 1);
  CHECK(gemma::sentencepiece_module_candidates() == std::vector<fs::path>{"/elsewhere/libgemma_spm.so"});
  unsetenv("GEMMA_EVAL_SPM_MODULE");
  auto defaults = gemma::sentencepiece_module_candidates();
  CHECK(defaults.size() == 2);
  CHECK(defaults.back().filename() == "libgemma_spm.so");
  if (saved) setenv("GEMMA_EVAL_SPM_MODULE", saved_value.c_str(), 1);

  TempDir dir;
  CHECK_THROWS_WITH(gemma::load_sentencepiece_tokenizer(dir.path / "tokenizer.model"), Contains("tokenizer.model"));
  write_text(dir.path / "tokenizer.model", "not a protobuf");
  CHECK_THROWS_WITH(gemma::load_sentencepiece_tokenizer(dir.path / "tokenizer.model"),
                    Contains("cannot load the SentencePiece model"));
}

// ---------------------------------------------------------------------------------------------
// load_tokenizer: choosing a file and checking that both files agree
// ---------------------------------------------------------------------------------------------

TEST_CASE("load_tokenizer says where it looked when a folder has no tokenizer", "[tokenizer]") {
  TempDir dir;
  CHECK_THROWS_WITH(gemma::load_tokenizer(dir.path),
                    Contains(dir.path.string()) && Contains("tokenizer.json") && Contains("tokenizer.model"));
  CHECK_THROWS_WITH(gemma::load_tokenizer(dir.path / "absent"), Contains("absent"));
}

TEST_CASE("load_tokenizer uses tokenizer.model alone, and tokenizer.json when both agree",
          "[tokenizer][sentencepiece]") {
  TempDir only_model;
  fs::create_symlink(kApproxSpmModel, only_model.path / "tokenizer.model");
  auto spm = gemma::load_tokenizer(only_model.path);
  CHECK(spm->kind() == "sentencepiece");
  CHECK(spm->encode("Hello, world!") == std::vector<int>{9259, 236764, 1902, 236888});

  TempDir both;
  fs::create_symlink(kTokenizerJson, both.path / "tokenizer.json");
  fs::create_symlink(kTokenizerConfig, both.path / "tokenizer_config.json");
  fs::create_symlink(kApproxSpmModel, both.path / "tokenizer.model");
  auto hf = gemma::load_tokenizer(both.path);
  CHECK(hf->kind() == "tokenizer.json");
  CHECK(hf->vocab_size() == 262145);
}

TEST_CASE("load_tokenizer refuses a tokenizer.json and tokenizer.model that disagree", "[tokenizer][sentencepiece]") {
  TempDir dir;
  const fs::path small_model = train_small_spm_model(dir.path);
  auto small_spm = gemma::load_sentencepiece_tokenizer(small_model);
  REQUIRE(small_spm->special().bos == 2);
  REQUIRE(small_spm->vocab_size() > 10);

  SECTION("the real tokenizer.json has far more ids") {
    CHECK_THROWS_WITH(gemma::check_tokenizers_agree(gemma3_hf(), *small_spm), Contains("disagree") && Contains("ids"));
  }
  SECTION("one piece differs") {
    json tokenizer = tokenizer_json_with_pieces_of(*small_spm);
    const int changed_id = 7;
    const std::string original = small_spm->piece(changed_id);
    tokenizer["model"]["vocab"].erase(original);
    tokenizer["model"]["vocab"]["renamed-piece"] = changed_id;
    gemma::HfTokenizer hf(tokenizer.dump(), "", "small/tokenizer.json");
    CHECK_THROWS_WITH(gemma::check_tokenizers_agree(hf, *small_spm),
                      Contains("id 7") && Contains("renamed-piece") && Contains(original));
  }
  SECTION("a special id differs") {
    gemma::HfTokenizer hf(tokenizer_json_with_pieces_of(*small_spm).dump(), R"({"bos_token": "<unk>"})",
                          "small/tokenizer.json");
    CHECK_THROWS_WITH(gemma::check_tokenizers_agree(hf, *small_spm), Contains("bos token is id 3"));
  }
  SECTION("same pieces, but without merges the texts split differently") {
    gemma::HfTokenizer hf(tokenizer_json_with_pieces_of(*small_spm).dump(), "", "small/tokenizer.json");
    CHECK_THROWS_WITH(gemma::check_tokenizers_agree(hf, *small_spm), Contains("on the text \"Hello, world!\""));
  }
  SECTION("through load_tokenizer") {
    TempDir folder;
    fs::create_symlink(kTokenizerJson, folder.path / "tokenizer.json");
    fs::copy_file(small_model, folder.path / "tokenizer.model");
    CHECK_THROWS_WITH(gemma::load_tokenizer(folder.path), Contains("tokenizer.model") && Contains("disagree"));
  }
}
