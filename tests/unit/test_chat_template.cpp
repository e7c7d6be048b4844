// The Gemma 3 chat template, rendered natively: strings as Hugging Face's apply_chat_template renders
// the template in tokenizer_config.json, and ids with exactly one BOS.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <memory>

#include "common/error.h"
#include "model/chat_template.h"
#include "model/tokenizer.h"

namespace fs = std::filesystem;
using Catch::Matchers::Contains;
using gemma::ChatMessage;
using gemma::render_chat;

namespace {

const fs::path kShared = GEMMA_TEST_SHARED_DIR;

const gemma::Tokenizer& gemma3_tokenizer() {
  static const std::unique_ptr<gemma::Tokenizer> tokenizer =
      gemma::load_hf_tokenizer(kShared / "data/tokenizer/gemma3/tokenizer.json");
  return *tokenizer;
}

}  // namespace

TEST_CASE("a single user turn with the generation prompt", "[chat]") {
  CHECK(render_chat({{"user", "What is the capital of France?"}}) ==
        "<bos><start_of_turn>user\nWhat is the capital of France?<end_of_turn>\n<start_of_turn>model\n");
  CHECK(render_chat({{"user", "Hi"}}, false) == "<bos><start_of_turn>user\nHi<end_of_turn>\n");
}

TEST_CASE("the system message is folded into the first user turn", "[chat]") {
  // A system + user conversation, without the image.
  CHECK(render_chat({{"system", "You are a helpful assistant."}, {"user", "What is shown in this image?"}}) ==
        "<bos><start_of_turn>user\nYou are a helpful assistant.\n\nWhat is shown in this image?<end_of_turn>\n"
        "<start_of_turn>model\n");
  // The template does not trim the system text, and uses it only in the first user turn.
  CHECK(render_chat({{"system", " be brief "}, {"user", "a"}, {"assistant", "b"}, {"user", "c"}}, false) ==
        "<bos><start_of_turn>user\n be brief \n\na<end_of_turn>\n<start_of_turn>model\nb<end_of_turn>\n"
        "<start_of_turn>user\nc<end_of_turn>\n");
  // A system message alone renders no turn at all (as the Jinja template does).
  CHECK(render_chat({{"system", "unused"}}) == "<bos><start_of_turn>model\n");
}

TEST_CASE("assistant turns are written as model; model is accepted as is", "[chat]") {
  const std::string expected =
      "<bos><start_of_turn>user\nQ1<end_of_turn>\n<start_of_turn>model\nA1<end_of_turn>\n"
      "<start_of_turn>user\nQ2<end_of_turn>\n<start_of_turn>model\n";
  CHECK(render_chat({{"user", "Q1"}, {"assistant", "A1"}, {"user", "Q2"}}) == expected);
  CHECK(render_chat({{"user", "Q1"}, {"model", "A1"}, {"user", "Q2"}}) == expected);
}

TEST_CASE("content is trimmed like Jinja's trim (Python str.strip)", "[chat]") {
  CHECK(render_chat({{"user", "  \n\t hello world \r\n"}}, false) ==
        "<bos><start_of_turn>user\nhello world<end_of_turn>\n");
  // Unicode whitespace: no-break space, ideographic space, line separator; inner whitespace stays.
  CHECK(render_chat({{"user", "\xC2\xA0\xE3\x80\x80 a \xC2\xA0 b\xE2\x80\xA8"}}, false) ==
        "<bos><start_of_turn>user\na \xC2\xA0 b<end_of_turn>\n");
  // Zero-width space is not whitespace for Python.
  CHECK(render_chat({{"user", "\xE2\x80\x8Bx"}}, false) == "<bos><start_of_turn>user\n\xE2\x80\x8Bx<end_of_turn>\n");
  CHECK(render_chat({{"user", "   "}}, false) == "<bos><start_of_turn>user\n<end_of_turn>\n");
}

TEST_CASE("roles must alternate user/assistant", "[chat]") {
  CHECK_THROWS_AS(render_chat({}), gemma::Error);
  CHECK_THROWS_WITH(render_chat({{"assistant", "hi"}}), Contains("alternate") && Contains("assistant"));
  CHECK_THROWS_WITH(render_chat({{"user", "a"}, {"user", "b"}}), Contains("message 1"));
  CHECK_THROWS_WITH(render_chat({{"system", "s"}, {"assistant", "a"}}), Contains("message 1"));
  CHECK_THROWS_AS(render_chat({{"user", "a"}, {"assistant", "b"}, {"assistant", "c"}}), gemma::Error);
}

TEST_CASE("encode_chat gives one BOS and the ids of the rendered text", "[chat][tokenizer]") {
  const gemma::Tokenizer& tokenizer = gemma3_tokenizer();
  // The reference vector "chat" is this conversation without its <bos>.
  const std::vector<int> chat_ids{105, 2364, 107, 3689, 563, 506, 5279, 529, 7001, 236881, 106, 107, 105, 4368, 107};
  std::vector<int> expected{2};
  expected.insert(expected.end(), chat_ids.begin(), chat_ids.end());
  const std::vector<ChatMessage> messages{{"user", "What is the capital of France?"}};
  CHECK(gemma::encode_chat(tokenizer, messages) == expected);
  // tokenizer.json matches the literal "<bos>" too, so both routes agree; encode_with_bos adds none.
  CHECK(tokenizer.encode(render_chat(messages)) == expected);
  CHECK(tokenizer.encode_with_bos(render_chat(messages)) == expected);

  auto ids = gemma::encode_chat(tokenizer, {{"system", "Be brief."}, {"user", "Hi"}}, false);
  CHECK(std::count(ids.begin(), ids.end(), 2) == 1);
  CHECK(ids.front() == 2);
  CHECK(ids.back() == 107);
  CHECK(tokenizer.decode(ids, false) == "<bos><start_of_turn>user\nBe brief.\n\nHi<end_of_turn>\n");
}
