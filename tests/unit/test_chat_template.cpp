// The Gemma 3 chat template, rendered natively: strings as Hugging Face's apply_chat_template renders
// the template in tokenizer_config.json, and ids with exactly one BOS.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
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

// ---- the model folder's chat_template through the Jinja engine (common/jinja.h) ----

namespace {

const fs::path kGemma3TokenizerDir = kShared / "data/tokenizer/gemma3";

const gemma::ChatTemplate& gemma3_file_template() {
  static const gemma::ChatTemplate chat = gemma::ChatTemplate::from_model_dir(kGemma3TokenizerDir);
  return chat;
}

std::string render_or_error(const std::function<std::string()>& render) {
  try {
    return render();
  } catch (const gemma::Error& error) {
    return std::string("error: ") + error.what();
  }
}

// A folder of the test's own, removed at the end.
struct TempModelDir {
  fs::path dir;
  explicit TempModelDir(const std::string& name) : dir(fs::temp_directory_path() / ("gemma-chat-" + name)) {
    fs::remove_all(dir);
    fs::create_directories(dir);
  }
  ~TempModelDir() { fs::remove_all(dir); }
  void write(const std::string& file, const std::string& text) const { std::ofstream(dir / file) << text; }
};

}  // namespace

TEST_CASE("the Gemma 3 tokenizer_config.json template and render_chat give identical prompts", "[chat][jinja]") {
  const gemma::ChatTemplate& file_template = gemma3_file_template();
  REQUIRE_FALSE(file_template.is_builtin());
  CHECK_THAT(file_template.origin(), Contains("tokenizer_config.json"));
  CHECK(file_template.fingerprint().size() == 64);
  const std::vector<std::vector<ChatMessage>> conversations = {
      {{"user", "What is the capital of France?"}},
      {{"user", "Hi"}},
      {{"system", "You are a helpful assistant."}, {"user", "What is shown in this image?"}},
      {{"system", " be brief "}, {"user", "a"}, {"assistant", "b"}, {"user", "c"}},
      {{"user", "Q1"}, {"assistant", "A1"}, {"user", "Q2"}},
      {{"user", "Q1"}, {"model", "A1"}, {"user", "Q2"}},
      {{"user", "  \n\t hello world \r\n"}},
      {{"user", "\xC2\xA0\xE3\x80\x80 a \xC2\xA0 b\xE2\x80\xA8"}},  // Unicode whitespace is trimmed
      {{"user", "\xE2\x80\x8Bx"}},                                  // zero-width space is not whitespace
      {{"user", "   "}},
      {{"user", "Ünïcödé: 日本語のテキスト, emoji 😀, Ελληνικά"}, {"assistant", " Привет "}},
      {{"system", "Sys\nwith lines\n"},
       {"user", "\n\nq\n\n"},
       {"assistant", "\ta\t"},
       {"user", "q2"},
       {"assistant", "a2"},
       {"user", "q3"}},
      {{"user", "{{ not a template }} {% if %} <start_of_turn>"}},
      {{"user", "line1\nline2\n\nline4"}, {"assistant", "x"}},
      {{"system", ""}, {"user", "empty system"}},
      {{"user", "Question: 2+2?\nAnswer:"}, {"assistant", "4"}, {"user", "Question: 3+3?\nAnswer:"}},
      {{"system", "unused"}},
      {{"user", "a"}, {"assistant", "b"}},
      {{"user", "quotes ' \" and backslash \\"}},
      {{"system", "S"}, {"user", "u"}, {"assistant", "m"}},
  };
  REQUIRE(conversations.size() == 20);
  for (const auto& conversation : conversations) {
    for (const bool add_generation_prompt : {true, false}) {
      INFO("first message: " << conversation[0].content << ", add_generation_prompt " << add_generation_prompt);
      CHECK(file_template.render(conversation, add_generation_prompt) ==
            render_chat(conversation, add_generation_prompt));
    }
  }
}

TEST_CASE("the tiny reference checkpoint carries the same Gemma 3 template", "[chat][jinja]") {
  const gemma::ChatTemplate tiny = gemma::ChatTemplate::from_model_dir(kShared / "reference/tiny-text");
  REQUIRE_FALSE(tiny.is_builtin());
  CHECK(tiny.fingerprint() == gemma3_file_template().fingerprint());
  const std::vector<ChatMessage> conversation{{"system", "S"}, {"user", " q "}, {"assistant", "a"}, {"user", "q2"}};
  CHECK(tiny.render(conversation) == render_chat(conversation));
}

TEST_CASE("a bad role order fails through both the built-in and the file's template", "[chat][jinja]") {
  const gemma::ChatTemplate& file_template = gemma3_file_template();
  for (const std::vector<ChatMessage>& bad :
       std::vector<std::vector<ChatMessage>>{{{"assistant", "hi"}},
                                             {{"user", "a"}, {"user", "b"}},
                                             {{"system", "s"}, {"assistant", "a"}},
                                             {{"user", "a"}, {"assistant", "b"}, {"assistant", "c"}}}) {
    CHECK_THROWS_WITH(render_chat(bad), Contains("Conversation roles must alternate"));
    CHECK_THROWS_WITH(file_template.render(bad), Contains("tokenizer_config.json chat_template:") &&
                                                     Contains("Conversation roles must alternate"));
  }
}

TEST_CASE("chat templates come from the model folder, in transformers' precedence", "[chat][jinja]") {
  const gemma::ChatTemplate builtin = gemma::ChatTemplate::builtin();
  CHECK(builtin.is_builtin());
  CHECK(builtin.fingerprint() == "builtin");
  CHECK(builtin.render({{"user", "x"}}) == render_chat({{"user", "x"}}));

  TempModelDir folder("precedence");
  CHECK(gemma::ChatTemplate::from_model_dir(folder.dir).is_builtin());  // no file at all
  folder.write("tokenizer_config.json", R"({"bos_token": {"content": "<B>", "lstrip": false}, "eos_token": "<E>"})");
  CHECK(gemma::ChatTemplate::from_model_dir(folder.dir).is_builtin());  // a config without chat_template

  folder.write("tokenizer_config.json",
               R"({"bos_token": {"content": "<B>"}, "eos_token": "<E>", "chat_template": [)"
               R"({"name": "tool_use", "template": "tools"},)"
               R"({"name": "default", "template": "{{ bos_token }}{% for m in messages %}{{ m.role }}={{ m.content }})"
               R"({{ eos_token }}{% endfor %}{% if add_generation_prompt %}>{% endif %}"}]})");
  const gemma::ChatTemplate listed = gemma::ChatTemplate::from_model_dir(folder.dir);
  CHECK_THAT(listed.origin(), Contains("\"default\""));
  CHECK(listed.render({{"user", "hi"}, {"assistant", "yo"}}) == "<B>user=hi<E>assistant=yo<E>>");
  CHECK(listed.render({{"user", "hi"}}, false) == "<B>user=hi<E>");
  CHECK(listed.renderer()({{"user", "r"}}, true) == "<B>user=r<E>>");
  CHECK(listed.fingerprint() != gemma3_file_template().fingerprint());

  folder.write("chat_template.jinja", "J{{ messages[0].content }}\n");  // chat_template.jinja wins
  const gemma::ChatTemplate jinja_file = gemma::ChatTemplate::from_model_dir(folder.dir);
  CHECK_THAT(jinja_file.origin(), Contains("chat_template.jinja"));
  CHECK(jinja_file.render({{"user", "q"}}) == "Jq");  // transformers drops the single trailing newline
  CHECK(jinja_file.source() == "J{{ messages[0].content }}\n");
}

TEST_CASE("a broken chat template is an error naming the file, line and column", "[chat][jinja]") {
  TempModelDir folder("broken");
  folder.write("tokenizer_config.json", R"({"chat_template": "{% for m in messages %}\n{{ m.content "})");
  CHECK_THROWS_WITH(gemma::ChatTemplate::from_model_dir(folder.dir),
                    Contains("tokenizer_config.json chat_template:2:1:"));
  folder.write("tokenizer_config.json", R"({"chat_template": 7})");
  CHECK_THROWS_WITH(gemma::ChatTemplate::from_model_dir(folder.dir), Contains("must be a string"));
  folder.write("tokenizer_config.json", R"({"chat_template": [{"name": "x", "template": "t"}]})");
  CHECK_THROWS_WITH(gemma::ChatTemplate::from_model_dir(folder.dir), Contains("\"default\""));
  folder.write("tokenizer_config.json", "{not json");
  CHECK_THROWS_WITH(gemma::ChatTemplate::from_model_dir(folder.dir), Contains("not valid JSON"));
  // Rendering errors name the template too.
  const gemma::ChatTemplate strict_content =
      gemma::ChatTemplate::from_source("{{ messages[0].content.missing.deeper }}", {}, "custom.jinja");
  CHECK_THAT(render_or_error([&] { return strict_content.render({{"user", "x"}}); }), Contains("custom.jinja:1:4:"));
}
