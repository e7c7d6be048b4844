#include "scorers/ptb_tokenizer.h"

#include <algorithm>
#include <memory>

#include <re2/re2.h>

#include "common/error.h"
#include "common/python_text.h"

namespace gemma::scorers {
namespace {

// ---- PTBLexer.flex macros, as RE2 syntax. JFlex's %caseless makes literal text case-insensitive
// but not character classes, so literals are wrapped in (?i:...) and classes are left alone.

const std::string kSgml = R"(<\/?[A-Za-z!?][^>\r\n]*>)";
const std::string kSpMdash = R"(&(?i:MD|mdash|ndash);|[\x{0096}\x{0097}\x{2013}\x{2014}\x{2015}])";
const std::string kSpAmp = R"(&(?i:amp);)";
const std::string kSpPunc = R"(&(?:(?i:HT|TL|UR|LR|QC|QL|QR|odq|cdq)|#[0-9]+);)";
const std::string kSpLet = R"(&[aeiouAEIOU](?i:acute|grave|uml);)";
const std::string kSpace = R"([ \t\x{00A0}\x{2000}-\x{200A}\x{3000}])";
const std::string kSpaces = kSpace + "+";
const std::string kNewline = R"((?:\r|\r?\n|\x{2028}|\x{2029}|\x{000B}|\x{000C}|\x{0085}))";
const std::string kSpaceNl = "(?:" + kSpace + "|" + kNewline + ")";
const std::string kSentEnd = kSpaceNl + "(?:" + kSpaceNl + "|[A-Z]|" + kSgml + ")";
const std::string kDigit = R"([\p{Nd}\x{07C0}-\x{07C9}])";
const std::string kDate = kDigit + "{1,2}[\\-\\/]" + kDigit + "{1,2}[\\-\\/]" + kDigit + "{2,4}";
const std::string kNum = "(?:" + kDigit + "+|" + kDigit + "*(?:[.:,\\x{00AD}\\x{066B}\\x{066C}]" + kDigit + "+)+)";
const std::string kNumber = "[\\-+]?" + kNum;
const std::string kSubSupNum =
    R"([\x{207A}\x{207B}\x{208A}\x{208B}]?(?:[\x{2070}\x{00B9}\x{00B2}\x{00B3}\x{2074}-\x{2079}]+|[\x{2080}-\x{2089}]+))";
const std::string kFrac =
    "(?:" + kDigit + "{1,4}[- \\x{00A0}])?" + kDigit + "{1,4}(?:\\\\?\\/|\\x{2044})" + kDigit + "{1,4}";
const std::string kFrac2 = R"([\x{00BC}\x{00BD}\x{00BE}\x{2153}-\x{215E}])";
const std::string kDolSign = R"((?:[A-Z]*\$|#))";
const std::string kDolSign2 =
    R"([\x{00A2}\x{00A3}\x{00A4}\x{00A5}\x{0080}\x{20A0}\x{20AC}\x{060B}\x{0E3F}\x{20A4}\x{FFE0}\x{FFE1}\x{FFE5}\x{FFE6}])";
// [:letter:] plus the marks and symbols PTBLexer adds to words.
const std::string kWordChar =
    R"([\p{L}\x{00AD}\x{0237}-\x{024F}\x{02C2}-\x{02C5}\x{02D2}-\x{02DF}\x{02E5}-\x{02FF}\x{0300}-\x{036F})"
    R"(\x{0370}-\x{037D}\x{0384}\x{0385}\x{03CF}\x{03F6}\x{03FC}-\x{03FF}\x{0483}-\x{0487}\x{04CF}\x{04F6}-\x{04FF})"
    R"(\x{0510}-\x{0525}\x{055A}-\x{055F}\x{0591}-\x{05BD}\x{05BF}\x{05C1}\x{05C2}\x{05C4}\x{05C5}\x{05C7})"
    R"(\x{0615}-\x{061A}\x{063B}-\x{063F}\x{064B}-\x{065E}\x{0670}\x{06D6}-\x{06EF}\x{06FA}-\x{06FF}\x{070F})"
    R"(\x{0711}\x{0730}-\x{074F}\x{0750}-\x{077F}\x{07A6}-\x{07B1}\x{07CA}-\x{07F5}\x{07FA}\x{0900}-\x{0903})"
    R"(\x{093C}\x{093E}-\x{094E}\x{0951}-\x{0955}\x{0962}-\x{0963}\x{0981}-\x{0983}\x{09BC}-\x{09C4}\x{09C7})"
    R"(\x{09C8}\x{09CB}-\x{09CD}\x{09D7}\x{09E2}\x{09E3}\x{0A01}-\x{0A03}\x{0A3C}\x{0A3E}-\x{0A4F}\x{0A81}-\x{0A83})"
    R"(\x{0ABC}-\x{0ACF}\x{0B82}\x{0BBE}-\x{0BC2}\x{0BC6}-\x{0BC8}\x{0BCA}-\x{0BCD}\x{0C01}-\x{0C03}\x{0C3E}-\x{0C56})"
    R"(\x{0D3E}-\x{0D44}\x{0D46}-\x{0D48}\x{0E30}-\x{0E3A}\x{0E47}-\x{0E4E}\x{0EB1}-\x{0EBC}\x{0EC8}-\x{0ECD}])";
const std::string kWord = "(?:" + kWordChar + "|" + kSpLet + ")+";
const std::string kApos = R"((?:['\x{0092}\x{2019}]|&(?i:apos);))";
const std::string kAposEtc = "(?:" + kApos + R"(|[\x{0091}\x{2018}\x{201B}]))";
const std::string kHyphen = R"([-_\x{058A}\x{2010}\x{2011}])";
const std::string kLetDig = R"([\p{L}\p{Nd}])";
const std::string kThingPart = "(?:[dDoOlL]" + kAposEtc + kLetDig + ")?" + kLetDig + "+";
const std::string kThing = kThingPart + "(?:" + kHyphen + kThingPart + ")*";
const std::string kThingA = "[A-Z]+(?:(?:[+&]|" + kSpAmp + ")[A-Z]+)+";
const std::string kThing3 = R"([A-Za-z0-9]+(?:-[A-Za-z]+){0,2}(?:\\?\/[A-Za-z0-9]+(?:-[A-Za-z]+){0,2}){1,2})";
const std::string kAcro = R"((?:[A-Za-z](?:\.[A-Za-z])+|(?i:Canada|Sino|Korean|EU|Japan|non)-(?i:U)\.(?i:S)|)"
                          R"((?i:U)\.(?i:S)\.-(?:(?i:U)\.(?i:K)|(?i:U)\.(?i:S)\.(?i:S)\.(?i:R))))";
const std::string kHThing = R"([A-Za-z0-9][A-Za-z0-9.,\x{00AD}]*(?:-(?:[A-Za-z0-9\x{00AD}]+|)" + kAcro + R"(\.))+)";
const std::string kRedAux = kApos + "(?:[msdMSD]|(?i:re|ve|ll))";
const std::string kSWord = R"([A-Za-z\x{00AD}]*[A-MO-Za-mo-z]\x{00AD}*)";
const std::string kSRedAux = "(?i:n)" + kAposEtc + "(?i:t)";
const std::string kAposWord =
    "(?:" + kApos + "(?i:n)" + kApos + "?|[lLdDjJ]" + kApos + "|(?i:Dunkin)" + kApos + "|(?i:somethin)" + kApos +
    "|(?i:ol)" + kApos + "|" + kApos + "(?i:em)|[A-HJ-XZn]" + kAposEtc + R"(\p{L}{2}\p{L}*|)" + kApos +
    "[2-9]0(?i:s)|" + kApos + "(?i:till?)|" + R"(\p{L}\p{L}*[aeiouyAEIOUY])" + kAposEtc + R"([aeiouA-Z]\p{L}*|)" +
    kApos +
    R"((?i:cause)|(?i:cont'd)\.?|(?i:'twas)|(?i:nor'easter)|(?i:c'mon)|(?i:e'er)|(?i:s'mores)|(?i:ev'ry)|)"
    R"((?i:li'l)|(?i:nat'l)))";
const std::string kAposWord2 = "(?i:y)" + kApos;
const std::string kFullUrl = R"((?i:https?):\/\/[^ \t\n\f\r"<>|()]+[^ \t\n\f\r"<>|.!?(){},-])";
// ",-_" in the second class is a range (',' to '_'), as in the JFlex source.
const std::string kLikelyUrl =
    R"((?:(?:(?i:www)\.(?:[^ \t\n\f\r"<>|.!?(){},]+\.)+[a-zA-Z]{2,4})|(?:(?:[^ \t\n\f\r"`'<>|.!?(){},-_$]+\.)+)"
    R"((?i:com|net|org|edu)))(?:\/[^ \t\n\f\r"<>|()]+[^ \t\n\f\r"<>|.!?(){},-])?)";
const std::string kEmail =
    R"([a-zA-Z0-9][^ \t\n\f\r"<>|()\x{00A0}]*@(?:[^ \t\n\f\r"<>|().\x{00A0}]+\.)*(?:[^ \t\n\f\r"<>|().\x{00A0}]+))";
const std::string kTwitter = "(?:@[a-zA-Z_][a-zA-Z_0-9]*|#" + kWord + ")";
const std::string kAbMonth = "(?i:Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)";
const std::string kAbDays = "(?i:Mon|Tue|Tues|Wed|Thu|Thurs|Fri)";
const std::string kAbState =
    "(?:(?i:Ala|Ariz)|A(?i:rk)|(?i:Calif|Colo|Conn|Dak|Del|Fla|Ga)|I(?i:ll)|(?i:Ind|Kans?|Ky|La)|M(?i:ass)|"
    "(?i:Md|Mich|Minn)|M(?i:iss)|(?i:Mo|Mont|Neb|Nev|Okla)|O(?i:re)|(?i:Pa|Penn|Tenn|Tex|Va|Vt)|W(?i:ash)|"
    "(?i:Wisc?|Wyo))";
const std::string kAbTitle =
    "(?:(?i:Mr|Mrs|Ms)|M(?i:iss)|(?i:Drs?|Profs?|Sens?|Reps?|Attys?|Lt|Col|Gen|Messrs|Govs?|Adm|Rev|Maj|Sgt|Cpl|"
    "Pvt|Mt|Capt|Ste?|Ave|Pres|Lieut|Hon|Brig|Co?mdr|Pfc|Spc|Supts?|Det))";
const std::string kAbPtit = R"((?:(?i:Jr|Sr|Bros)|(?i:Ed|Ph)\.(?i:D)|(?i:Blvd|Rd|Esq)))";
const std::string kAbComp = "(?i:Inc|Cos?|Corp|Pp?tys?|Ltd|Plc|Bancorp|Dept|Bhd|Assn|Univ|Intl|Sys)";
const std::string kAbComp2 = "(?:(?i:Invt|Elec|Natl)|(?i:M)[ft](?i:g))";
const std::string kAbNum = "(?i:Nos?|Prop|Ph|tel|est|ext|sq|ft)";
const std::string kAbbrev1 = "(?:" + kAbMonth + "|" + kAbDays + "|" + kAbState + "|" + kAbComp + "|" + kAbNum + "|" +
                             kAbPtit + "|(?i:etc|al|seq))\\.";
const std::string kAbbrev4 = "(?:[A-Za-z]|" + kAbTitle + R"(|(?i:vs|Alex|Wm|Jos|Cie)|(?i:a)\.(?i:k)\.(?i:a)|)" +
                             "(?i:cf|TREAS)|" + kAcro + "|" + kAbComp2 + ")";
const std::string kAbbrev2 = kAbbrev4 + "\\.";
const std::string kAcronym = kAcro + "\\.";
const std::string kPhone =
    R"((?:(?:\([0-9]{2,3}\)[ \x{00A0}]?|(?:\+\+?)?(?:[0-9]{2,4}[\- \x{00A0}])?[0-9]{2,4}[\- \x{00A0}])[0-9]{3,4})"
    R"([\- \x{00A0}]?[0-9]{3,5}|(?:(?:\+\+?)?[0-9]{2,4}\.)?[0-9]{2,4}\.[0-9]{3,4}\.[0-9]{3,5}))";
const std::string kOpBrac = R"((?:[<\[]|&(?i:lt);))";
const std::string kClBrac = R"((?:[>\]]|&(?i:gt);))";
const std::string kLdots = R"((?:\.{3,5}|(?:\.[ \x{00A0}]){2,4}\.|[\x{0085}\x{2026}]))";
const std::string kFnMarks = "(?:@+|#+|_+)";
const std::string kAsts = R"((?:\*+|(?:\\\*){1,3}))";
const std::string kInSentP = R"([,;:\x{3001}])";
const std::string kQuotes =
    "(?:" + kApos +
    R"(|''|[`\x{2018}\x{2019}\x{201A}\x{201B}\x{201C}\x{201D}\x{0091}\x{0092}\x{0093}\x{0094}\x{201E}\x{201F}\x{2039}\x{203A}\x{00AB}\x{00BB}]{1,2}))";
const std::string kDblQuot = R"((?:"|&(?i:quot);))";
const std::string kTbSpec = "(?:-(?i:RRB|LRB|RCB|LCB|RSB|LSB)-|" +
                            std::string(R"((?i:C)\.(?i:D)\.(?i:s)|(?i:pro)-|(?i:anti)-|)") + "(?i:S)(?:&|" + kSpAmp +
                            ")(?i:P)-500|(?i:S)(?:&|" + kSpAmp + ")(?i:Ls)|(?i:Cap)" + kApos + "(?i:n)|(?i:c)" + kApos +
                            "(?i:est))";
const std::string kTbSpec2 = kApos + "[0-9][0-9]";
const std::string kMiscSymbol =
    R"([+%&~\^|\\\x{00A6}\x{00A7}\x{00A8}\x{00A9}\x{00AC}\x{00AE}\x{00AF}\x{00B0}-\x{00B3}\x{00B4}-\x{00BA}\x{00D7})"
    R"(\x{00F7}\x{0387}\x{05BE}\x{05C0}\x{05C3}\x{05C6}\x{05F3}\x{05F4}\x{0600}-\x{0603}\x{0606}-\x{060A}\x{060C})"
    R"(\x{0614}\x{061B}\x{061E}\x{066A}\x{066D}\x{0703}-\x{070D}\x{07F6}\x{07F7}\x{07F8}\x{0964}\x{0965}\x{0E4F})"
    R"(\x{1FBD}\x{2016}\x{2017}\x{2020}-\x{2023}\x{2030}-\x{2038}\x{203B}\x{203E}-\x{2042}\x{2044}\x{207A}-\x{207F})"
    R"(\x{208A}-\x{208E}\x{2100}-\x{214F}\x{2190}-\x{21FF}\x{2200}-\x{2BFF}\x{3012}\x{30FB}\x{FF01}-\x{FF0F})"
    R"(\x{FF1A}-\x{FF20}\x{FF3B}-\x{FF40}\x{FF5B}-\x{FF65}])";

// The capitalised words after which an acronym's period also ends the sentence; the first letter
// is a (case-sensitive) character class in the JFlex source, the rest caseless.
std::string acronym_sentence_starters() {
  static const char* const kWords[] = {
      "About",   "According", "Additionally", "After", "An",      "A",     "As",   "At",    "But",
      "Earlier", "He",        "Her",          "Here",  "However", "If",    "In",   "It",    "Last",
      "Many",    "More",      "Mr.",          "Ms.",   "Now",     "Once",  "One",  "Other", "Our",
      "She",     "Since",     "So",           "Some",  "Such",    "That",  "The",  "Then",  "There",
      "These",   "They",      "This",         "We",    "When",    "While", "What", "Yet",   "You"};
  std::string alternatives;
  for (const char* word : kWords) {
    std::string w(word), rest = w.substr(1);
    bool period = !rest.empty() && rest.back() == '.';
    if (period) rest.pop_back();
    if (!alternatives.empty()) alternatives += '|';
    alternatives += w.substr(0, 1);
    if (!rest.empty()) alternatives += "(?i:" + rest + ")";
    if (period) alternatives += "\\.";
  }
  return "(?:" + kSpaces + ")(?:" + alternatives + ")" + kSpace;
}

// What a rule does with its match (the JFlex actions, with PTBLexer's default options).
enum class Action {
  AsIs,
  Cannot,       // "can" now, "not" next
  Sgml,         // spaces -> U+00A0
  Dash,         // "--"
  Amp,          // &amp; -> &
  SoftHyphen,   // soft hyphens removed
  Url,          // \/ and \* escaped
  QuoteRight,   // handleQuotes(.., false): latexQuotes
  QuoteLeft,    // handleQuotes(.., true)
  Slash,        // \/ escaped
  Frac,         // \/ escaped, spaces -> U+00A0
  Frac2,        // composed fractions spelled out
  Currency,     // normalizeCurrency
  PeriodAgain,  // the token keeps its final period, which is read again as the next token
  Phone,        // spaces -> U+00A0, parentheses -> -LRB- -RRB-
  Drop,         // no token
  Lrb,
  Rrb,
  Lcb,
  Rcb,
  Hyphens,   // 3 or 4 hyphens -> "--"
  Ellipsis,  // "..."
  Asterisk,  // \* escaped
  Newline,
};

struct Rule {
  std::unique_ptr<RE2> whole;  // head + trailing context, for the match length
  std::unique_ptr<RE2> head;   // the token part when the rule has trailing context
  Action action;
};

std::unique_ptr<RE2> compile(const std::string& pattern) {
  RE2::Options options;
  options.set_longest_match(true);
  options.set_log_errors(false);
  options.set_dot_nl(false);
  auto regex = std::make_unique<RE2>(pattern, options);
  if (!regex->ok()) fail("ptb tokenizer: internal pattern does not compile ({}): {}", regex->error(), pattern);
  return regex;
}

const std::vector<Rule>& rules() {
  static const std::vector<Rule> table = [] {
    std::vector<Rule> r;
    auto add = [&r](const std::string& head, const std::string& context, Action action) {
      Rule rule;
      rule.whole = compile(context.empty() ? head : "(?:" + head + ")(?:" + context + ")");
      if (!context.empty()) rule.head = compile(head);
      rule.action = action;
      r.push_back(std::move(rule));
    };
    // In the order of PTBLexer.flex's rules section (the order breaks ties between equal lengths).
    add("(?i:cannot)", "", Action::Cannot);
    add(kSgml, "", Action::Sgml);
    add(kSpMdash, "", Action::Dash);
    add(kSpAmp, "", Action::Amp);
    add(kSpPunc, "", Action::AsIs);
    add(kWord, kRedAux, Action::SoftHyphen);
    add(kSWord, kSRedAux, Action::SoftHyphen);
    add(kWord, "", Action::SoftHyphen);
    add(kAposWord, "", Action::AsIs);
    add(kAposWord2, R"(\p{L})", Action::AsIs);
    add(kFullUrl, "", Action::Url);
    add(kLikelyUrl, "", Action::Url);
    add(kEmail, "", Action::AsIs);
    add(kTwitter, "", Action::AsIs);
    add(kRedAux, "[^A-Za-z]", Action::QuoteRight);
    add(kSRedAux, "", Action::QuoteRight);
    add(kDate, "", Action::Slash);
    add(kNumber, "", Action::SoftHyphen);
    add(kSubSupNum, "", Action::AsIs);
    add(kFrac, "", Action::Frac);
    add(kFrac2, "", Action::Frac2);
    add(kTbSpec, "", Action::Amp);
    add(kThing3, "", Action::Slash);
    add(kDolSign, "", Action::AsIs);
    add(kDolSign2, "", Action::Currency);
    add(kAcronym, acronym_sentence_starters(), Action::PeriodAgain);
    add(kAbbrev1, kSentEnd, Action::PeriodAgain);
    add(kAbbrev1, "", Action::AsIs);
    add(kAbbrev2, "", Action::AsIs);
    add(kAbbrev4, kSpace, Action::AsIs);
    add(kAcro, kSpaceNl, Action::AsIs);
    add(kTbSpec2, kSpaceNl, Action::AsIs);
    add(kWord + "\\.", kInSentP, Action::SoftHyphen);
    add(kPhone, "", Action::Phone);
    add(kDblQuot, "[A-Za-z0-9$]", Action::QuoteLeft);
    add(kDblQuot, "", Action::QuoteRight);
    add("(?i:0x7f)", "", Action::Drop);
    add(kOpBrac, "", Action::Lrb);
    add(kClBrac, "", Action::Rrb);
    add(R"(\{)", "", Action::Lcb);
    add(R"(\})", "", Action::Rcb);
    add(R"(\()", "", Action::Lrb);
    add(R"(\))", "", Action::Rrb);
    add(R"(\-+)", "", Action::Hyphens);
    add(kLdots, "", Action::Ellipsis);
    add(kFnMarks, "", Action::AsIs);
    add(kAsts, "", Action::Asterisk);
    add(kInSentP, "", Action::AsIs);
    add("[?!]+", "", Action::AsIs);
    add(R"([.\x{00A1}\x{00BF}\x{037E}\x{0589}\x{061F}\x{06D4}\x{0700}-\x{0702}\x{07FA}\x{3002}])", "", Action::AsIs);
    add("=", "", Action::AsIs);
    add(R"(\/)", "", Action::Slash);
    add(kHThing + "\\.", kInSentP, Action::SoftHyphen);
    add(kHThing, "", Action::SoftHyphen);
    add(kThing + "\\.", kInSentP, Action::AsIs);
    add(kThing, "", Action::AsIs);
    add(kThingA + "\\.", kInSentP, Action::Amp);
    add(kThingA, "", Action::Amp);
    add("'", R"([A-Za-z][^ \t\n\r\x{00A0}])", Action::QuoteLeft);
    add(kRedAux, "", Action::QuoteRight);
    add(kQuotes, "", Action::QuoteRight);
    add("<<|>>", "", Action::AsIs);
    add(kMiscSymbol, "", Action::AsIs);
    add(R"(\x{0}|)" + kSpaces + R"(|[\x{200B}\x{200E}-\x{200F}\x{FEFF}])", "", Action::Drop);
    add(kNewline, "", Action::Newline);
    add("&(?i:nbsp);", "", Action::Drop);
    add(".", "", Action::Drop);  // untokenizable: deleted (PTBLexer's default "firstDelete")
    return r;
  }();
  return table;
}

// Java's String.replaceAll("(?i:&amp;)", "&").
std::string normalize_amp(const std::string& text) {
  static const RE2 amp("(?i:&amp;)");
  std::string out = text;
  RE2::GlobalReplace(&out, amp, "&");
  return out;
}

std::string remove_soft_hyphens(const std::string& text) {
  std::string out = replace_all(text, "\u00AD", "");
  return out.empty() ? "-" : out;
}

// PTBLexer.delimit: a backslash before each `c` not already preceded by one.
std::string delimit(const std::string& text, char c) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == c && (i == 0 || text[i - 1] != '\\')) out += '\\';
    out += text[i];
  }
  return out;
}

std::string nbsp(const std::string& text) { return replace_all(text, " ", "\u00A0"); }

// PTBLexer.latexQuotes.
std::string latex_quotes(std::string text, bool probably_left) {
  if (probably_left) {
    text = replace_all(replace_all(text, "&apos;", "`"), "'", "`");
    text = replace_all(replace_all(text, "\"", "``"), "&quot;", "``");
  } else {
    text = replace_all(text, "&apos;", "'");
    text = replace_all(replace_all(text, "\"", "''"), "&quot;", "''");
  }
  for (const char* c : {"\u0091", "\u2018", "\u201B", "\u2039"}) text = replace_all(text, c, "`");
  for (const char* c : {"\u0092", "\u2019", "\u203A"}) text = replace_all(text, c, "'");
  for (const char* c : {"\u0093", "\u201C", "\u00AB"}) text = replace_all(text, c, "``");
  for (const char* c : {"\u0094", "\u201D", "\u00BB"}) text = replace_all(text, c, "''");
  return text;
}

// PTBLexer.normalizeFractions with escapeForwardSlashAsterisk, including its bug: U+2153 is
// replaced twice, so "⅔" (U+2154) and the other composed fractions are left as they are.
std::string normalize_fractions(std::string text) {
  text = replace_all(text, "\u00BC", "1\\/4");
  text = replace_all(text, "\u00BD", "1\\/2");
  text = replace_all(text, "\u00BE", "3\\/4");
  text = replace_all(text, "\u2153", "1\\/3");
  return text;
}

std::string normalize_currency(std::string text) {
  text = replace_all(text, "\u00A2", "cents");
  text = replace_all(text, "\u00A3", "#");
  for (const char* c : {"\u0080", "\u00A4", "\u20A0", "\u20AC"}) text = replace_all(text, c, "$");
  return text;
}

bool is_ascii_letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

struct Token {
  std::string text;
  size_t offset;  // byte offset in the input where its match starts
};

// The lexer proper: tokens with their offsets; newline tokens are not returned.
std::vector<Token> lex(std::string_view input) {
  std::vector<Token> tokens;
  const auto& table = rules();
  size_t pos = 0;
  while (pos < input.size()) {
    const char c = input[pos];
    if (c == ' ' || c == '\t' || c == '\n') {
      ++pos;
      continue;
    }
    // Fast path: a run of ASCII letters that ends at a space, tab, newline or the end is one word
    // whatever the rules (no rule can match further without punctuation), except "cannot".
    if (is_ascii_letter(c)) {
      size_t end = pos;
      while (end < input.size() && is_ascii_letter(input[end])) ++end;
      if (end == input.size() || input[end] == ' ' || input[end] == '\t' || input[end] == '\n') {
        std::string word(input.substr(pos, end - pos));
        std::string lower = word;
        for (char& ch : lower) ch = static_cast<char>(ch | 0x20);
        if (lower == "cannot") {
          tokens.push_back({word.substr(0, 3), pos});
          tokens.push_back({word.substr(3), pos + 3});
        } else {
          tokens.push_back({std::move(word), pos});
        }
        pos = end;
        continue;
      }
    }
    // Longest match over all rules, the earlier rule on ties.
    const re2::StringPiece text(input.data(), input.size());
    size_t best_length = 0;
    const Rule* best = nullptr;
    for (const Rule& rule : table) {
      re2::StringPiece match;
      if (!rule.whole->Match(text, pos, input.size(), RE2::ANCHOR_START, &match, 1)) continue;
      if (match.size() > best_length) {
        best_length = match.size();
        best = &rule;
      }
    }
    if (best == nullptr || best_length == 0) {  // bytes no rule reads (invalid UTF-8): deleted
      ++pos;
      continue;
    }
    size_t head_length = best_length;
    if (best->head) {
      re2::StringPiece head;
      if (best->head->Match(text, pos, pos + best_length, RE2::ANCHOR_START, &head, 1)) head_length = head.size();
    }
    const std::string matched(input.substr(pos, head_length));
    size_t consumed = head_length;
    std::string token;
    bool emit = true;
    switch (best->action) {
      case Action::AsIs:
        token = matched;
        break;
      case Action::Cannot:
        token = matched.substr(0, 3);
        consumed = 3;
        break;
      case Action::Sgml:
        token = nbsp(matched);
        break;
      case Action::Dash:
        token = "--";
        break;
      case Action::Amp:
        token = normalize_amp(matched);
        break;
      case Action::SoftHyphen:
        token = remove_soft_hyphens(matched);
        break;
      case Action::Url:
        token = delimit(delimit(matched, '/'), '*');
        break;
      case Action::QuoteRight:
        token = latex_quotes(matched, false);
        break;
      case Action::QuoteLeft:
        token = latex_quotes(matched, true);
        break;
      case Action::Slash:
        token = delimit(matched, '/');
        break;
      case Action::Frac:
        token = nbsp(delimit(matched, '/'));
        break;
      case Action::Frac2:
        token = normalize_fractions(matched);
        break;
      case Action::Currency:
        token = normalize_currency(matched);
        break;
      case Action::PeriodAgain:
        token = matched;
        consumed = head_length - 1;
        break;
      case Action::Phone:
        token = replace_all(replace_all(nbsp(matched), "(", "-LRB-"), ")", "-RRB-");
        break;
      case Action::Lrb:
        token = "-LRB-";
        break;
      case Action::Rrb:
        token = "-RRB-";
        break;
      case Action::Lcb:
        token = "-LCB-";
        break;
      case Action::Rcb:
        token = "-RCB-";
        break;
      case Action::Hyphens:
        token = matched.size() >= 3 && matched.size() <= 4 ? "--" : matched;
        break;
      case Action::Ellipsis:
        token = "...";
        break;
      case Action::Asterisk:
        token = delimit(matched, '*');
        break;
      case Action::Drop:
      case Action::Newline:
        emit = false;
        break;
    }
    if (emit) tokens.push_back({std::move(token), pos});
    pos += std::max<size_t>(consumed, 1);
  }
  return tokens;
}

bool is_punctuation_token(const std::string& token) {
  const auto& list = ptb_punctuation_tokens();
  return std::find(list.begin(), list.end(), token) != list.end();
}

}  // namespace

const std::vector<std::string>& ptb_punctuation_tokens() {
  static const std::vector<std::string> list = {"''", "'", "``", "`", "-LRB-", "-RRB-", "-LCB-", "-RCB-", ".",
                                                "?",  "!", ",",  ":", "-",     "--",    "...",   ";"};
  return list;
}

std::vector<std::string> ptb_lexer_tokens(std::string_view text) {
  std::vector<std::string> out;
  for (Token& token : lex(text)) out.push_back(std::move(token.text));
  return out;
}

std::vector<std::string> ptb_tokenize_captions(const std::vector<std::string>& captions) {
  // pycocoevalcap: '\n'.join(caption.replace('\n', ' ') ...), one caption a line.
  std::string stream;
  std::vector<size_t> starts;
  for (const std::string& caption : captions) {
    if (!starts.empty()) stream += '\n';
    starts.push_back(stream.size());
    stream += replace_all(caption, "\n", " ");
  }
  std::vector<std::string> out(captions.size());
  for (const Token& token : lex(stream)) {
    // -lowerCase lower-cases each token after lexing; then the punctuation tokens go.
    const std::string lowered = python_lower(token.text);
    if (is_punctuation_token(lowered)) continue;
    const size_t line =
        static_cast<size_t>(std::upper_bound(starts.begin(), starts.end(), token.offset) - starts.begin()) - 1;
    std::string& caption = out[line];
    if (!caption.empty()) caption += ' ';
    caption += lowered;
  }
  return out;
}

std::string ptb_tokenize(std::string_view caption) { return ptb_tokenize_captions({std::string(caption)}).front(); }

}  // namespace gemma::scorers
