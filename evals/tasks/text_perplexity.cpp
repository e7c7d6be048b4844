// text_perplexity: the perplexity of a model on your own text, scored as lm-eval scores wikitext
// (output_type loglikelihood_rolling, lm-eval tasks/wikitext/wikitext.yaml's metrics word_perplexity,
// byte_perplexity and bits_per_byte). Data: data_dir/text_perplexity/*.txt, one document per file (UTF-8),
// in the byte order of the file names (doc_id = position). Each text is scored whole, in rolling windows
// of --max-length tokens; words and bytes are counted in the text as it stands (lm-eval's count_words
// and count_bytes).
#include <algorithm>

#include "common/error.h"
#include "common/utf8.h"
#include "evals/perplexity.h"
#include "evals/task_registry.h"
#include "evals/tasks/rows.h"
#include "evals/tasks/task_helpers.h"

namespace gemma::evals::tasks {
namespace {

DocSplit load_text_files(const std::filesystem::path& data_dir) {
  const std::filesystem::path dir = data_dir / "text_perplexity";
  std::error_code error;
  if (!std::filesystem::is_directory(dir, error))
    fail("task text_perplexity: {} is not a folder; put the texts to score there, one UTF-8 .txt file per document",
         dir.string());
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir))
    if (entry.is_regular_file() && entry.path().extension() == ".txt") files.push_back(entry.path());
  if (files.empty())
    fail("task text_perplexity: {} holds no .txt files; put the texts to score there, one per document", dir.string());
  std::sort(files.begin(), files.end());
  DocSplit split;
  split.name = "test";
  for (const auto& path : files) {
    SourceFile file = read_source(path);
    // Python reads the text as str: bytes that are not UTF-8 have no words or characters to count.
    if (!is_valid_utf8(file.bytes)) fail("task text_perplexity: {} is not valid UTF-8", path.string());
    Doc doc;
    doc["file"] = path.filename().string();
    doc["text"] = std::move(file.bytes);
    split.docs.push_back(std::move(doc));
    file.info.rows = 1;
    split.files.push_back(std::move(file.info));
  }
  return split;
}

TaskSpec text_perplexity_task() {
  TaskSpec t = new_task("text_perplexity", 1, OutputType::LoglikelihoodRolling, 0);
  t.load_eval = load_text_files;
  t.doc_to_target = [](const Doc& doc) { return doc.at("text").get<std::string>(); };
  t.metrics = {loglikelihood_metric("word_perplexity"), loglikelihood_metric("byte_perplexity"),
               loglikelihood_metric("bits_per_byte")};
  return t;
}

}  // namespace

const TaskRegistration kTextPerplexityRegistration{2750, &text_perplexity_task};

}  // namespace gemma::evals::tasks
