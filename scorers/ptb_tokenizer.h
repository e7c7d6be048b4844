#pragma once
// The caption tokenisation of pycocoevalcap's PTBTokenizer (pycocoevalcap tokenizer/ptbtokenizer.py, HEAD, as lmms-eval
// lmms_eval/tasks/coco_cap/utils.py@75571cfe calls it), in C++: Stanford CoreNLP 3.4.1's
// edu.stanford.nlp.process.PTBTokenizer run as `-preserveLines -lowerCase` over all captions (one caption a line), then
// every token in pycocoevalcap's PUNCTUATIONS list dropped and the rest joined with single spaces. Torch-free.
//
// The lexer is a port of CoreNLP's PTBLexer.flex (JFlex) rules with their default options
// (ptb3Escaping: -LRB- for "(", `` and '' for double quotes, "--" for dashes, "..." for
// ellipses, \/ and \* escaped, untokenizable characters deleted), keeping JFlex's semantics:
// longest match (trailing context counted), ties to the earlier rule, %caseless literals, and
// pushback. What it does not reproduce (documented in docs/deviations.md):
//   - Americanize (British -> American spelling such as "colour" -> "color"), an option whose
//     default in 3.4.1 we could not confirm; not applied;
//   - JFlex's Unicode 6 character classes: [:letter:]/[:digit:] are RE2's current \p{L}/\p{Nd};
//   - Java's lower-casing is gemma's python_lower (ASCII, Latin, Greek, Cyrillic);
//   - a newline-like character inside a caption (\r, U+2028, U+0085, ...) is whitespace here;
//     the Java run would start a new output line there and misalign every later caption.
// Lower-casing happens after tokenisation, so "(" becomes "-lrb-", which is not in
// pycocoevalcap's list and stays a token, exactly as with the Java tokenizer.
#include <string>
#include <string_view>
#include <vector>

namespace gemma::scorers {

// pycocoevalcap's PUNCTUATIONS: tokens removed after tokenisation.
const std::vector<std::string>& ptb_punctuation_tokens();

// The PTBLexer tokens of `text` (no lower-casing, no punctuation removal), as
// `PTBTokenizer -preserveLines` prints them; newlines end tokens and are not returned.
std::vector<std::string> ptb_lexer_tokens(std::string_view text);

// pycocoevalcap PTBTokenizer.tokenize for captions in the order given: captions are lexed as one
// stream, one a line ("\n" inside a caption becomes a space), so a rule's look-ahead may see the
// next caption as the Java tokenizer does. Returns one space-joined, lower-cased string per caption.
std::vector<std::string> ptb_tokenize_captions(const std::vector<std::string>& captions);

// One caption on its own.
std::string ptb_tokenize(std::string_view caption);

}  // namespace gemma::scorers
