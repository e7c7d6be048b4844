// Rendered prompts against the strings lm-eval builds from its task YAMLs, one block per task family.
// Each expected string is lm-eval's template (doc_to_text / doc_to_choice / description / until from
// EleutherAI/lm-evaluation-harness lm_eval/tasks/<family>/...) rendered on the first rows of the real
// data under ../shared/data (or the bundled samples) the way lm-eval renders it: Jinja2 with
// StrictUndefined and keep_trailing_newline, 0-shot, so the prompt is description + doc_to_text.
// A change in a task's rendering, its data order or its stop sequences fails here by name.
#include <array>
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "evals/task_registry.h"
#include "tests/support/task_fixtures.h"
#include "tests/support/temp_dir.h"

using namespace gemma;
using namespace gemma::evals;
namespace fs = std::filesystem;
using gemma::test::kSharedData;
using gemma::test::render_prompt;
using gemma::test::task_named;

namespace {

std::string prompt_of(const TaskSpec& t, const Doc& doc) { return render_prompt(t, {}, doc); }

void write_file(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

}  // namespace

// ---------------------------------------------------------------- MGSM native CoT
// lm_eval/tasks/mgsm/utils.py LANGUAGES and gen_lang_yamls(mode="native-cot") generate
// native_cot/mgsm_native_cot_<lang>.yaml: doc_to_text
//   '{% if answer is not none %}{{question+"\n<ANSWER>"}}{% else %}{{"<QUESTION> "+question+"\n<ANSWER>"}}{% endif %}'
// doc_to_target '{% if answer is not none %}{{answer[len(ANSWER)+1:]}}{% else %}{{answer_number|string}}{% endif %}',
// until [QUESTION, "</s>", "<|im_end|>"], strict-match = the language's REGEX, flexible-extract
// "(-?[$0-9.,]{2,})|(-?[0-9]+)" group_select -1; target_delimiter stays " " (the generator's ""
// for ja/zh is falsy and never written). ja and zh write QUESTION with a full-width colon.

namespace {

struct MgsmExpected {
  const char* lang;
  const char* question_word;
  const char* strict_pattern;
  std::array<const char*, 2> prompts;  // test docs 0 and 1 (answer None)
  std::array<const char*, 2> targets;
  // A train-style doc: question "<QUESTION> q?", this answer; its rendering and sliced target.
  const char* train_answer;
  const char* train_text;
  const char* train_target;
};

const MgsmExpected kMgsmExpected[] = {
    {"bn",
     "প্রশ্ন:",
     "The answer is (\\-?[0-9\\.\\,]+)",
     {"প্রশ্ন: জেনেটের হাঁসগুলি প্রতিদিন 16টি করে ডিম পাড়ে। তিনি প্রতিদিন প্রাতরাশে তিনটি করে ডিম খান এবং বন্ধুদের "
      "জন্য প্রতিদিন চারটি ডিম দিয়ে মাফিন তৈরি করেন। অবশিষ্ট হাঁসের ডিমগুলি তিনি প্রতিদিন কৃষকদের বাজারে প্রতি "
      "ডিম $2 দরে বিক্রয় করেন। তিনি কৃষকদের বাজারে প্রতিদিন কত ডলার উপার্জন করেন?\n"
      "ধাপে ধাপে উত্তর:",
      "প্রশ্ন: একটি পোশাক তৈরি করতে 2 রিল নীল সুতো এবং তার অর্ধেক সাদা সুতো লাগে। এটি তৈরি করতে মোট কতগুলি "
      "রিল লাগবে?\n"
      "ধাপে ধাপে উত্তর:"},
     {"18", "3"},
     "ধাপে ধাপে উত্তর: Step one. The answer is 7",
     "প্রশ্ন: q?\n"
     "ধাপে ধাপে উত্তর:",
     "Step one. The answer is 7"},
    {"de",
     "Frage:",
     "Die Antwort lautet (\\-?[0-9\\.\\,]+)",
     {"Frage: Janets Enten legen 16 Eier pro Tag. Sie isst drei jeden Morgen zum Frühstück und backt mit vier "
      "jeden Tag Muffins für ihre Freunde. Den Rest verkauft sie täglich auf dem Bauernmarkt für 2 US-Dollar "
      "pro frischem Entenei. Wie viel Dollar nimmt sie täglich auf dem Bauernmarkt ein?\n"
      "Schritt-für-Schritt-Antwort:",
      "Frage: Ein Kleid erfordert 2 Knäuel blaue Wolle und halb so viel weiße Wolle. Wie viele Knäuel braucht "
      "man insgesamt?\n"
      "Schritt-für-Schritt-Antwort:"},
     {"18", "3"},
     "Schritt-für-Schritt-Antwort: Step one. Die Antwort lautet 7",
     "Frage: q?\n"
     "Schritt-für-Schritt-Antwort:",
     "Step one. Die Antwort lautet 7"},
    {"en",
     "Question:",
     "The answer is (\\-?[0-9\\.\\,]+)",
     {"Question: Janet’s ducks lay 16 eggs per day. She eats three for breakfast every morning and bakes muffins "
      "for her friends every day with four. She sells the remainder at the farmers' market daily for $2 per "
      "fresh duck egg. How much in dollars does she make every day at the farmers' market?\n"
      "Step-by-Step Answer:",
      "Question: A robe takes 2 bolts of blue fiber and half that much white fiber.  How many bolts in total "
      "does it take?\n"
      "Step-by-Step Answer:"},
     {"18", "3"},
     "Step-by-Step Answer: Step one. The answer is 7",
     "Question: q?\n"
     "Step-by-Step Answer:",
     "Step one. The answer is 7"},
    {"es",
     "Pregunta:",
     "La respuesta es (\\-?[0-9\\.\\,]+)",
     {"Pregunta: Los patos de Janet ponen 16 huevos por día. Ella come tres en el desayuno todas las mañanas "
      "y usa cuatro para hornear magdalenas para sus amigos todos los días. Vende lo que sobra en el mercado "
      "de productores diariamente a $2 el huevo fresco de pato. ¿Cuánto gana en dólares todos los días en el "
      "mercado de productores?\n"
      "Respuesta paso a paso:",
      "Pregunta: Una bata lleva 2 rollos de tela azul y la mitad de esa cantidad de tela blanca. ¿Cuántos rollos "
      "se necesitan en total?\n"
      "Respuesta paso a paso:"},
     {"18", "3"},
     "Respuesta paso a paso: Step one. La respuesta es 7",
     "Pregunta: q?\n"
     "Respuesta paso a paso:",
     "Step one. La respuesta es 7"},
    {"fr",
     "Question :",
     "La réponse est (\\-?[0-9\\.\\,]+)",
     {"Question : Les canes de Janet pondent 16 œufs par jour. Chaque matin, elle en mange trois au petit déjeuner "
      "et en utilise quatre autres pour préparer des muffins pour ses amis. Ce qui reste, elle le vend quotidiennement "
      "au marché fermier, au prix de 2 $ l'œuf de cane frais. Combien (en dollars) gagne-t-elle chaque jour "
      "au marché fermier ?\n"
      "Réponse étape par étape :",
      "Question : Une robe nécessite 2 rouleaux de fibre bleue et la moitié de cette quantité en fibre blanche. "
      "Combien faut-il de rouleaux au total ?\n"
      "Réponse étape par étape :"},
     {"18", "3"},
     "Réponse étape par étape : Step one. La réponse est 7",
     "Question : q?\n"
     "Réponse étape par étape :",
     "Step one. La réponse est 7"},
    {"ja",
     "問題：",
     "答えは(\\-?[0-9\\.\\,]+)です。",
     {"問題： "
      "ジャネットのアヒルは1日に16個の卵を生みます。ジャネットは毎朝朝食の一環で3個を消費し、毎日4個使って友達向けにマ"
      "フィンを焼きます。残りを市場で1個あたり2ドルの価格で売ります。彼女は毎日市場でいくら手に入れていますか？\n"
      "ステップごとの答え:",
      "問題： "
      "ローブを作成するには、青色の繊維を2巻分、白色の繊維をその半分用いる必要があります。全体で何巻必要ですか？\n"
      "ステップごとの答え:"},
     {"18", "3"},
     "ステップごとの答え: Step one. 答えは7",
     "問題： q?\n"
     "ステップごとの答え:",
     "Step one. 答えは7"},
    {"ru",
     "Задача:",
     "Ответ — (\\-?[0-9\\.\\,]+)",
     {"Задача: Утки Дженет несут по 16 яиц в день. Она ест три на завтрак каждое утро и печет кексы для своих "
      "друзей каждый день, используя четыре. Остаток она каждый день продает на фермерском рынке по 2 $ за "
      "свежее утиное яйцо. Сколько в долларах она зарабатывает на фермерском рынке каждый день?\n"
      "Пошаговоерешение:",
      "Задача: Для халата требуется 2 мотка синей пряжи и вполовину меньше белой пряжи. Сколько всего мотков "
      "требуется?\n"
      "Пошаговоерешение:"},
     {"18", "3"},
     "Пошаговоерешение: Step one. Ответ — 7",
     "Задача: q?\n"
     "Пошаговоерешение:",
     "Step one. Ответ — 7"},
    {"sw",
     "Swali:",
     "Jibu ni (\\-?[0-9\\.\\,]+)",
     {"Swali: Bata wa Janet hutaga mayai 16 kila siku. Huwa anakula matatu wakati wa staftahi kila asubuhi "
      "na huokea marafiki zake mafini kila siku kwa mayai manne. Huwa anauza yaliyosalia katika soko la wakulima "
      "kila siku kwa $2 kwa kila yai la bata. Huwa anatengeneza pesa ngapi katika dola kila siku katika soko "
      "la wakulima?\n"
      "Jibu la Hatua kwa Hatua:",
      "Swali: Joho hutumia komeo 2 za ufumwele wa buluu na nusu ya kiasi hicho cha ufumwele mweupe. Huwa inatumia "
      "jumla ya komeo ngapi?\n"
      "Jibu la Hatua kwa Hatua:"},
     {"18", "3"},
     "Jibu la Hatua kwa Hatua: Step one. Jibu ni 7",
     "Swali: q?\n"
     "Jibu la Hatua kwa Hatua:",
     "Step one. Jibu ni 7"},
    {"te",
     "ప్రశ్న:",
     "సమాధానం (\\-?[0-9\\.\\,]+)",
     {"ప్రశ్న: జనెత్ బాతులు ప్రతిరోజూ 16 గుడ్లు పెడతాయి. ఆమె ప్రతిరోజూ ఉదయం అల్పాహారం కొరకు మూడు గుడ్లు తింటుంది "
      "మరియు ప్రతిరోజూ నాలుగింటితో తన స్నేహితుల కొరకు మఫిన్‌లు బేక్ చేస్తుంది. ఆమె మిగిలిన వాటిని రోజూ "
      "రైతు "
      "మార్కెట్ వద్ద ప్రతి తాజా బాతు గుడ్డును $2కు విక్రయిస్తుంది. ఆమె రైతు మార్కెట్ వద్ద ప్రతిరోజూ ఎన్ని డాలర్లు "
      "సంపాదిస్తుంది?\n"
      "దశలవారీగా సమాధానం:",
      "ప్రశ్న: ఒక రోబ్ 2 బోల్ట్‌ల బ్లూ ఫైబర్ మరియు దానిలో సగం వైట్ ఫైబర్‌ని తీసుకుంది. అది మొత్తం ఎన్ని "
      "బోల్ట్‌లను "
      "తీసుకుంది?\n"
      "దశలవారీగా సమాధానం:"},
     {"18", "3"},
     "దశలవారీగా సమాధానం: Step one. సమాధానం 7",
     "ప్రశ్న: q?\n"
     "దశలవారీగా సమాధానం:",
     "Step one. సమాధానం 7"},
    {"th",
     "โจทย์:",
     "คำตอบคือ (\\-?[0-9\\.\\,]+)",
     {"โจทย์: เป็ดของเจเน็ตวางไข่วันละ 16 ฟอง เธอกินไข่สามฟองเป็นมื้อเช้าทุกวัน และใช้ไข่สี่ฟองอบมัฟฟินให้เพื่อนทุกวัน "
      "เธอขายไข่ที่เหลือที่ตลาดเกษตรกรทุกวันในราคา $2 ต่อไข่เป็ดสดหนึ่งฟอง เธอจะมีรายได้จากตลาดเกษตรกรวันละกี่ดอลลาร์\n"
      "คำตอบทีละขั้นตอน:",
      "โจทย์: เสื้อคลุมหนึ่งตัวใช้ผ้าสีน้ำเงิน 2 ม้วน และใช้ผ้าสีขาวเป็นครึ่งหนึ่งของผ้าสีน้ำเงิน เสื้อคลุมหนึ่งตัวใช้ผ้าทั้งหมดกี่ม้วน\n"
      "คำตอบทีละขั้นตอน:"},
     {"18", "3"},
     "คำตอบทีละขั้นตอน: Step one. คำตอบคือ 7",
     "โจทย์: q?\n"
     "คำตอบทีละขั้นตอน:",
     "Step one. คำตอบคือ 7"},
    {"zh",
     "问题：",
     "答案是 (\\-?[0-9\\.\\,]+)。",
     {"问题： 珍妮特的鸭子每天下 16 颗蛋。她每天早上早餐时吃 3 颗，每天用 4 "
      "颗为自己的朋友做松饼。剩下的鸭蛋她每天拿去农贸市场卖，每颗新鲜鸭蛋卖 2 美元。她每天在农贸市场赚多少钱？\n"
      "逐步解答:",
      "问题： 制作一件袍子需要 2 匹蓝色纤维布料和这个数量一半的白色纤维布料。它一共需要用掉多少匹布料？\n"
      "逐步解答:"},
     {"18", "3"},
     "逐步解答: Step one. 答案是 7",
     "问题： q?\n"
     "逐步解答:",
     "Step one. 答案是 7"},
};

}  // namespace

TEST_CASE("lm-eval prompts: MGSM native CoT renders every language as lm-eval does", "[lm_eval_prompts][mgsm]") {
  for (const MgsmExpected& expected : kMgsmExpected) {
    const std::string name = std::string("mgsm_native_cot_") + expected.lang;
    INFO(name);
    const TaskSpec& t = task_named(name);
    const DocSplit split = t.load_eval(kSharedData);
    REQUIRE(split.docs.size() >= 2);
    for (size_t i = 0; i < 2; ++i) {
      CHECK(prompt_of(t, split.docs[i]) == expected.prompts[i]);
      CHECK(t.doc_to_target(split.docs[i]) == expected.targets[i]);
    }
    CHECK(t.target_delimiter == " ");
    CHECK(t.until == std::vector<std::string>{expected.question_word, "</s>", "<|im_end|>"});
    REQUIRE(t.filters.size() == 2);
    CHECK(t.filters[0].name == "strict-match");
    REQUIRE(t.filters[0].steps.size() == 2);
    CHECK(t.filters[0].steps[0].pattern == expected.strict_pattern);
    CHECK(t.filters[0].steps[0].group_select == 0);
    CHECK(t.filters[1].name == "flexible-extract");
    REQUIRE(t.filters[1].steps.size() == 2);
    CHECK(t.filters[1].steps[0].pattern == "(-?[$0-9.,]{2,})|(-?[0-9]+)");
    CHECK(t.filters[1].steps[0].group_select == -1);
    const Doc train = {{"question", std::string(expected.question_word) + " q?"},
                       {"answer", expected.train_answer},
                       {"answer_number", "7"}};
    CHECK(t.doc_to_text(train) == expected.train_text);
    CHECK(t.doc_to_target(train) == expected.train_target);
  }
}

// ---------------------------------------------------------------- Minerva MATH
// lm_eval/tasks/minerva_math/minerva_math_<name>.yaml: task names algebra, counting_and_prob, geometry,
// intermediate_algebra, num_theory, prealgebra, precalc (dataset_name = the subject folder);
// utils.doc_to_text "Problem:\n" + problem + "\n\nSolution:"; until ["Problem:"]. Rows come from
// EleutherAI/hendrycks_math, whose loading script yields sorted(Path(...).iterdir()): file names in
// string order, so doc 1 of algebra is 10.json, not 2.json.

namespace {

struct MathExpected {
  const char* name;   // lm-eval's task name
  const char* alias;  // minerva_math_<subject folder>, still accepted
  std::array<const char*, 5> first_files;
  std::array<const char*, 2> prompts;
};

const MathExpected kMathExpected[] = {
    {"minerva_math_algebra",
     "minerva_math_algebra",
     {"1.json", "10.json", "1001.json", "1002.json", "1004.json"},
     {"Problem:\n"
      "How many vertical asymptotes does the graph of $y=\\frac{2}{x^2+x-6}$ have?\n"
      "\n"
      "Solution:",
      "Problem:\n"
      "What is the positive difference between $120\\%$ of 30 and $130\\%$ of 20?\n"
      "\n"
      "Solution:"}},
    {"minerva_math_counting_and_prob",
     "minerva_math_counting_and_probability",
     {"0.json", "10.json", "100.json", "1003.json", "1004.json"},
     {"Problem:\n"
      "The probability of rain tomorrow is $\\frac{1}{11}$.  What is the probability that it will not rain "
      "tomorrow?  Express your answer as a common fraction.\n"
      "\n"
      "Solution:",
      "Problem:\n"
      "$n$ fair 6-sided dice are simultaneously rolled. The probability that exactly two of them show a number "
      "other than 1 is $\\frac{25}{216}$. Find $n$.\n"
      "\n"
      "Solution:"}},
    {"minerva_math_geometry",
     "minerva_math_geometry",
     {"0.json", "10.json", "100.json", "1002.json", "1003.json"},
     {"Problem:\n"
      "In right triangle $ABC$, shown below, $\\cos{B}=\\frac{6}{10}$.  What is $\\tan{C}$?\n"
      "\n"
      "[asy]\n"
      "draw((0,0)--(10,0)--(3.6,4.8)--cycle,black+linewidth(1));\n"
      "draw(rightanglemark((0,0),(3.6,4.8),(10,0),20),black+linewidth(1));\n"
      "label(\"$C$\",(10,0),E);\n"
      "label(\"$A$\",(3.6,4.8),N);\n"
      "label(\"$B$\",(0,0),W);\n"
      "label(\"10\",(0,0)--(10,0),S);\n"
      "[/asy]\n"
      "\n"
      "Solution:",
      "Problem:\n"
      "In $\\triangle{ABC}$, shown, $\\cos{B}=\\frac{3}{5}$.  What is $\\cos{C}$?\n"
      "\n"
      "[asy]\n"
      "draw((0,0)--(4,0)--(0,3)--cycle,black+linewidth(1));\n"
      "draw(rightanglemark((4,0),(0,0),(0,3),10),black+linewidth(1));\n"
      "label(\"$A$\",(0,0),W);\n"
      "label(\"$B$\",(0,3),W);\n"
      "label(\"$C$\",(4,0),E);\n"
      "label(\"9\",(0,0)--(0,3),W);\n"
      "[/asy]\n"
      "\n"
      "Solution:"}},
    {"minerva_math_intermediate_algebra",
     "minerva_math_intermediate_algebra",
     {"0.json", "10.json", "100.json", "1000.json", "1003.json"},
     {"Problem:\n"
      "Suppose that $x,$ $y,$ and $z$ are complex numbers such that \\[\\begin{aligned} xy &= -80 - 320i, \\\\ "
      "yz &=60, \\\\ zx &= -96 + 24i, \\end{aligned}\\]where $i^2 = -1.$ Compute $|x+y+z|.$\n"
      "\n"
      "Solution:",
      "Problem:\n"
      "Is $f(x) = 3^x$ an even function, odd function, or neither?\n"
      "\n"
      "Enter \"odd\", \"even\", or \"neither\".\n"
      "\n"
      "Solution:"}},
    {"minerva_math_num_theory",
     "minerva_math_number_theory",
     {"0.json", "1.json", "100.json", "1000.json", "1002.json"},
     {"Problem:\n"
      "A positive multiple of 45 less than 1000 is randomly selected. What is the probability that it is a "
      "two-digit integer? Express your answer as a common fraction.\n"
      "\n"
      "Solution:",
      "Problem:\n"
      "Kirsty needs to hire a plumber to fix her house. The plumber charges $242_5$ dollars for every hour "
      "of labor and $367_{8}$ dollars for equipment. If the plumber works for $3.5_{10}$ hours, how many dollars "
      "(in base ten) will Kirsty owe the plumber?\n"
      "\n"
      "Solution:"}},
    {"minerva_math_prealgebra",
     "minerva_math_prealgebra",
     {"10.json", "1000.json", "1002.json", "1003.json", "1007.json"},
     {"Problem:\n"
      "John and Gary are playing a game. John spins a spinner numbered with integers from 1 to 20. Gary then "
      "writes a list of all of the positive factors of the number spun except for the number itself. Gary then "
      "creates a new spinner with all of the numbers on his list. John then spins this spinner, and the process "
      "continues. The game is over when the spinner has no numbers on it. If John spins a 20 on his first spin, "
      "what is the maximum number of total spins (including the one he already made) that John can make before "
      "the game is over?\n"
      "\n"
      "Solution:",
      "Problem:\n"
      "What is the smallest multiple of $5$ which is greater than $-32$?\n"
      "\n"
      "Solution:"}},
    {"minerva_math_precalc",
     "minerva_math_precalculus",
     {"0.json", "1.json", "100.json", "1000.json", "1002.json"},
     {"Problem:\n"
      "Let $\\mathbf{a}$ and $\\mathbf{b}$ be vectors such that\n"
      "\\[\\mathbf{v} = \\operatorname{proj}_{\\mathbf{a}} \\mathbf{v} + \\operatorname{proj}_{\\mathbf{b}} "
      "\\mathbf{v}\\]for all vectors $\\mathbf{v}.$  Enter all possible values of $\\mathbf{a} \\cdot \\mathbf{b},$ "
      "separated by commas.\n"
      "\n"
      "Solution:",
      "Problem:\n"
      "Let $\\mathbf{u}$ and $\\mathbf{v}$ be vectors such that $\\|\\mathbf{u}\\| = \\|\\mathbf{v}\\| = 2$ "
      "and $\\mathbf{u} \\cdot \\mathbf{v} = -1.$  If $\\theta$ is the angle between the vectors $\\mathbf{u} "
      "+ \\mathbf{v}$ and $2 \\mathbf{u} - \\mathbf{v},$ then find $\\cos \\theta.$\n"
      "\n"
      "Solution:"}},
};

}  // namespace

TEST_CASE("lm-eval prompts: Minerva MATH names, document order and prompts", "[lm_eval_prompts][math]") {
  std::vector<std::string> names;
  for (const MathExpected& expected : kMathExpected) {
    INFO(expected.name);
    const TaskSpec& t = task_named(expected.name);
    CHECK(t.name == expected.name);
    CHECK(&task_named(expected.alias) == &t);  // the older name resolves to the same task
    CHECK(t.groups == std::vector<std::string>{"minerva_math"});
    CHECK(t.until == std::vector<std::string>{"Problem:"});
    const DocSplit split = t.load_eval(kSharedData);
    REQUIRE(split.files.size() >= 5);
    for (size_t i = 0; i < 5; ++i) CHECK(fs::path(split.files[i].path).filename() == expected.first_files[i]);
    for (size_t i = 0; i < 2; ++i) CHECK(prompt_of(t, split.docs[i]) == expected.prompts[i]);
    names.push_back(expected.name);
  }
  // The group holds exactly lm-eval's seven tasks, under lm-eval's names.
  std::vector<std::string> members;
  for (const TaskSpec* t : resolve_tasks("minerva_math")) members.push_back(t->name);
  CHECK(members == names);
}

TEST_CASE("lm-eval prompts: MATH problem files are taken in file-name order", "[lm_eval_prompts][math]") {
  test::TempDir dir;
  const fs::path folder = dir.path / "math" / "MATH" / "test" / "number_theory";
  for (const char* n : {"2", "10", "1", "100"})
    write_file(folder / (std::string(n) + ".json"),
               std::string(R"({"problem": "p)") + n +
                   R"(", "level": "Level 1", "type": "Number Theory", "solution": "$\\boxed{)" + n + R"(}$"})");
  const DocSplit split = task_named("minerva_math_num_theory").load_eval(dir.path);
  std::vector<std::string> problems;
  for (const Doc& doc : split.docs) problems.push_back(doc.at("problem").get<std::string>());
  CHECK(problems == std::vector<std::string>{"p1", "p10", "p100", "p2"});  // Python's sorted(), not 1, 2, 10, 100
}
// BBH: lm_eval/tasks/bbh/cot_fewshot/_cot_fewshot_template_yaml (until ["</s>", "Q", "\n\n"],
// target_delimiter "") and <subtask>.yaml (description; doc_to_text "Q: {{input}}\nA: Let's think step by step.\n").
TEST_CASE("lm-eval prompts: BBH boolean_expressions", "[lm_eval_prompts][bbh]") {
  const TaskSpec& t = task_named("bbh_cot_fewshot_boolean_expressions");
  const DocSplit split = t.load_eval(kSharedData);
  REQUIRE(split.docs.size() >= 2);
  CHECK(prompt_of(t, split.docs[0]) ==
        "Evaluate the result of a random Boolean expression.\n"
        "\n"
        "Q: not ( True ) and ( True ) is\n"
        "A: Let's think step by step.\n");
  CHECK(prompt_of(t, split.docs[1]) ==
        "Evaluate the result of a random Boolean expression.\n"
        "\n"
        "Q: True and not not ( not False ) is\n"
        "A: Let's think step by step.\n");
  CHECK(t.until == std::vector<std::string>{"</s>", "Q",
                                            "\n"
                                            "\n"});
  CHECK(t.target_delimiter.empty());
}

// GSM8K: lm_eval/tasks/gsm8k/gsm8k.yaml ("Question: {{question}}\nAnswer:") and gsm8k-cot.yaml
// ("Q: {{question}}\nA:"), until ["Question:" / "Q:", "</s>", "<|im_end|>"].
TEST_CASE("lm-eval prompts: GSM8K", "[lm_eval_prompts][gsm8k]") {
  const TaskSpec& t = task_named("gsm8k");
  const DocSplit split = t.load_eval(kSharedData);
  REQUIRE(split.docs.size() >= 2);
  CHECK(prompt_of(t, split.docs[0]) ==
        "Question: Janet’s ducks lay 16 eggs per day. She eats three for breakfast every morning and bakes muffins "
        "for her friends every day with four. She sells the remainder at the farmers' market daily for $2 per "
        "fresh duck egg. How much in dollars does she make every day at the farmers' market?\n"
        "Answer:");
  CHECK(prompt_of(t, split.docs[1]) ==
        "Question: A robe takes 2 bolts of blue fiber and half that much white fiber.  How many bolts in total "
        "does it take?\n"
        "Answer:");
  CHECK(t.until == std::vector<std::string>{"Question:", "</s>", "<|im_end|>"});
}

TEST_CASE("lm-eval prompts: GSM8K CoT", "[lm_eval_prompts][gsm8k]") {
  const TaskSpec& t = task_named("gsm8k_cot");
  const DocSplit split = t.load_eval(kSharedData);
  REQUIRE(split.docs.size() >= 2);
  CHECK(prompt_of(t, split.docs[0]) ==
        "Q: Janet’s ducks lay 16 eggs per day. She eats three for breakfast every morning and bakes muffins for "
        "her friends every day with four. She sells the remainder at the farmers' market daily for $2 per fresh "
        "duck egg. How much in dollars does she make every day at the farmers' market?\n"
        "A:");
  CHECK(prompt_of(t, split.docs[1]) ==
        "Q: A robe takes 2 bolts of blue fiber and half that much white fiber.  How many bolts in total does "
        "it take?\n"
        "A:");
  CHECK(t.until == std::vector<std::string>{"Q:", "</s>", "<|im_end|>"});
}

// MMLU: lm_eval/tasks/mmlu/default/_default_template_yaml + mmlu_<subject>.yaml (description).
TEST_CASE("lm-eval prompts: MMLU", "[lm_eval_prompts][mmlu]") {
  const TaskSpec& t = task_named("mmlu_abstract_algebra");
  const DocSplit split = t.load_eval(kSharedData);
  REQUIRE(split.docs.size() >= 2);
  CHECK(prompt_of(t, split.docs[0]) ==
        "The following are multiple choice questions (with answers) about abstract algebra.\n"
        "\n"
        "Find the degree for the given field extension Q(sqrt(2), sqrt(3), sqrt(18)) over Q.\n"
        "A. 0\n"
        "B. 4\n"
        "C. 2\n"
        "D. 6\n"
        "Answer:");
  CHECK(prompt_of(t, split.docs[1]) ==
        "The following are multiple choice questions (with answers) about abstract algebra.\n"
        "\n"
        "Let p = (1, 2, 5, 4)(2, 3) in S_5 . Find the index of <p> in S_5.\n"
        "A. 8\n"
        "B. 2\n"
        "C. 24\n"
        "D. 120\n"
        "Answer:");
  CHECK(t.target_delimiter == " ");
  CHECK(t.doc_to_choice(split.docs[0]) == std::vector<std::string>{"A", "B", "C", "D"});
  CHECK(t.doc_to_choice(split.docs[1]) == std::vector<std::string>{"A", "B", "C", "D"});
}

// ARC: lm_eval/tasks/arc/arc_easy.yaml (arc_challenge includes it): "Question: {{question}}\nAnswer:",
// choices "{{choices.text}}".
TEST_CASE("lm-eval prompts: arc_easy", "[lm_eval_prompts][arc]") {
  const TaskSpec& t = task_named("arc_easy");
  const DocSplit split = t.load_eval(kSharedData);
  REQUIRE(split.docs.size() >= 2);
  CHECK(prompt_of(t, split.docs[0]) ==
        "Question: Which statement best explains why photosynthesis is the foundation of most food webs?\n"
        "Answer:");
  CHECK(prompt_of(t, split.docs[1]) ==
        "Question: Which piece of safety equipment is used to keep mold spores from entering the respiratory "
        "system?\n"
        "Answer:");
  CHECK(t.target_delimiter == " ");
  CHECK(t.doc_to_choice(split.docs[0]) ==
        std::vector<std::string>{"Sunlight is the source of energy for nearly all ecosystems.",
                                 "Most ecosystems are found on land instead of in water.",
                                 "Carbon dioxide is more available than other gases.",
                                 "The producers in all ecosystems are plants."});
  CHECK(t.doc_to_choice(split.docs[1]) ==
        std::vector<std::string>{"safety goggles", "breathing mask", "rubber gloves", "lead apron"});
}

TEST_CASE("lm-eval prompts: arc_challenge", "[lm_eval_prompts][arc]") {
  const TaskSpec& t = task_named("arc_challenge");
  const DocSplit split = t.load_eval(kSharedData);
  REQUIRE(split.docs.size() >= 2);
  CHECK(prompt_of(t, split.docs[0]) ==
        "Question: An astronomer observes that a planet rotates faster after a meteorite impact. Which is the "
        "most likely effect of this increase in rotation?\n"
        "Answer:");
  CHECK(prompt_of(t, split.docs[1]) ==
        "Question: A group of engineers wanted to know how different building designs would respond during an "
        "earthquake. They made several models of buildings and tested each for its ability to withstand earthquake "
        "conditions. Which will most likely result from testing different building designs?\n"
        "Answer:");
  CHECK(t.target_delimiter == " ");
  CHECK(t.doc_to_choice(split.docs[0]) ==
        std::vector<std::string>{"Planetary density will decrease.", "Planetary years will become longer.",
                                 "Planetary days will become shorter.", "Planetary gravity will become stronger."});
  CHECK(t.doc_to_choice(split.docs[1]) ==
        std::vector<std::string>{"buildings will be built faster", "buildings will be made safer",
                                 "building designs will look nicer", "building materials will be cheaper"});
}

// PIQA: lm_eval/tasks/piqa/piqa.yaml: "Question: {{goal}}\nAnswer:", choices "{{[sol1, sol2]}}".
TEST_CASE("lm-eval prompts: PIQA", "[lm_eval_prompts][piqa]") {
  const TaskSpec& t = task_named("piqa");
  const DocSplit split = t.load_eval(kSharedData);
  REQUIRE(split.docs.size() >= 2);
  CHECK(prompt_of(t, split.docs[0]) ==
        "Question: How do I ready a guinea pig cage for it's new occupants?\n"
        "Answer:");
  CHECK(prompt_of(t, split.docs[1]) ==
        "Question: dresser\n"
        "Answer:");
  CHECK(t.target_delimiter == " ");
  CHECK(t.doc_to_choice(split.docs[0]) ==
        std::vector<std::string>{
            "Provide the guinea pig with a cage full of a few inches of bedding made of ripped paper strips, you "
            "will also need to supply it with a water bottle and a food dish.",
            "Provide the guinea pig with a cage full of a few inches of bedding made of ripped jeans material, you "
            "will also need to supply it with a water bottle and a food dish."});
  CHECK(t.doc_to_choice(split.docs[1]) ==
        std::vector<std::string>{"replace drawer with bobby pin ", "finish, woodgrain with  bobby pin "});
}

// BoolQ: lm_eval/tasks/super_glue/boolq/default.yaml: "{{passage}}\nQuestion: {{question}}?\nAnswer:",
// choices ["no", "yes"].
TEST_CASE("lm-eval prompts: BoolQ", "[lm_eval_prompts][boolq]") {
  const TaskSpec& t = task_named("boolq");
  const DocSplit split = t.load_eval(kSharedData);
  REQUIRE(split.docs.size() >= 2);
  CHECK(prompt_of(t, split.docs[0]) ==
        "Ethanol fuel -- All biomass goes through at least some of these steps: it needs to be grown, collected, "
        "dried, fermented, distilled, and burned. All of these steps require resources and an infrastructure. "
        "The total amount of energy input into the process compared to the energy released by burning the resulting "
        "ethanol fuel is known as the energy balance (or ``energy returned on energy invested''). Figures compiled "
        "in a 2007 report by National Geographic Magazine point to modest results for corn ethanol produced in "
        "the US: one unit of fossil-fuel energy is required to create 1.3 energy units from the resulting ethanol. "
        "The energy balance for sugarcane ethanol produced in Brazil is more favorable, with one unit of fossil-fuel "
        "energy required to create 8 from the ethanol. Energy balance estimates are not easily produced, thus "
        "numerous such reports have been generated that are contradictory. For instance, a separate survey reports "
        "that production of ethanol from sugarcane, which requires a tropical climate to grow productively, returns "
        "from 8 to 9 units of energy for each unit expended, as compared to corn, which only returns about 1.34 "
        "units of fuel energy for each unit of energy expended. A 2006 University of California Berkeley study, "
        "after analyzing six separate studies, concluded that producing ethanol from corn uses much less petroleum "
        "than producing gasoline.\n"
        "Question: does ethanol take more energy make that produces?\n"
        "Answer:");
  CHECK(
      prompt_of(t, split.docs[1]) ==
      "Property tax -- Property tax or 'house tax' is a local tax on buildings, along with appurtenant land. "
      "It is and imposed on the Possessor (not the custodian of property as per 1978, 44th amendment of constitution). "
      "It resembles the US-type wealth tax and differs from the excise-type UK rate. The tax power is vested "
      "in the states and is delegated to local bodies, specifying the valuation method, rate band, and collection "
      "procedures. The tax base is the annual rental value (ARV) or area-based rating. Owner-occupied and other "
      "properties not producing rent are assessed on cost and then converted into ARV by applying a percentage "
      "of cost, usually four percent. Vacant land is generally exempt. Central government properties are exempt. "
      "Instead a 'service charge' is permissible under executive order. Properties of foreign missions also "
      "enjoy tax exemption without requiring reciprocity. The tax is usually accompanied by service taxes, "
      "e.g., water tax, drainage tax, conservancy (sanitation) tax, lighting tax, all using the same tax base. "
      "The rate structure is flat on rural (panchayat) properties, but in the urban (municipal) areas it is "
      "mildly progressive with about 80% of assessments falling in the first two brackets.\n"
      "Question: is house tax and property tax are same?\n"
      "Answer:");
  CHECK(t.target_delimiter == " ");
  CHECK(t.doc_to_choice(split.docs[0]) == std::vector<std::string>{"no", "yes"});
  CHECK(t.doc_to_choice(split.docs[1]) == std::vector<std::string>{"no", "yes"});
}

// HellaSwag: lm_eval/tasks/hellaswag/hellaswag.yaml ("{{query}}", choices "choices") after utils.process_docs:
// query = preprocess(activity_label + ": " + ctx_a + " " + ctx_b.capitalize()), choices = preprocess(endings).
TEST_CASE("lm-eval prompts: HellaSwag (bundled sample rows)", "[lm_eval_prompts][hellaswag]") {
  const TaskSpec& t = task_named("hellaswag");
  const DocSplit split = t.load_eval(gemma::test::kBundledSamples);
  REQUIRE(split.docs.size() >= 2);
  CHECK(prompt_of(t, split.docs[0]) ==
        "Removing ice from car: Then, the man writes over the snow covering the window of a car, and a woman "
        "wearing winter clothes smiles. Then");
  CHECK(prompt_of(t, split.docs[1]) ==
        "Brushing teeth: A boy squeezes toothpaste onto a toothbrush over the sink. The boy");
  CHECK(t.target_delimiter == " ");
  CHECK(t.doc_to_choice(split.docs[0]) ==
        std::vector<std::string>{"the woman pours orange juice over the roof of the car.",
                                 "the man opens the trunk and climbs inside to take a nap.",
                                 "the woman starts a snowball fight with the neighbours' dog.",
                                 "the man keeps scraping the ice off the windshield with a plastic scraper."});
  CHECK(t.doc_to_choice(split.docs[1]) == std::vector<std::string>{"brushes his teeth carefully and rinses his mouth.",
                                                                   "brushes the cat with the toothpaste.",
                                                                   "puts the toothbrush in the oven.",
                                                                   "throws the sink out of the window."});
}

// WinoGrande: lm_eval/tasks/winogrande/default.yaml + preprocess_winogrande.py: multiple inputs; the
// contexts sentence[:i] + option (i = index of "_"), the shared continuation sentence[i+1:].strip().
TEST_CASE("lm-eval prompts: WinoGrande (bundled sample rows)", "[lm_eval_prompts][winogrande]") {
  const TaskSpec& t = task_named("winogrande");
  const DocSplit split = t.load_eval(gemma::test::kBundledSamples);
  REQUIRE(split.docs.size() >= 2);
  CHECK(t.multiple_inputs);
  CHECK(t.target_delimiter == " ");
  CHECK(t.doc_to_choice(split.docs[0]) ==
        std::vector<std::string>{"Sarah was a much better surgeon than Maria so Sarah",
                                 "Sarah was a much better surgeon than Maria so Maria"});
  CHECK(t.doc_to_target(split.docs[0]) == "always got the harder cases.");
  CHECK(t.doc_to_choice(split.docs[1]) ==
        std::vector<std::string>{"Sarah was a much better surgeon than Maria so Sarah",
                                 "Sarah was a much better surgeon than Maria so Maria"});
  CHECK(t.doc_to_target(split.docs[1]) == "always got the easier cases.");
}

// Social IQa: lm_eval/tasks/siqa/siqa.yaml: "Q: {{context}} {{question}}\nA:", choices answerA..C.
TEST_CASE("lm-eval prompts: Social IQa (bundled sample rows)", "[lm_eval_prompts][social_iqa]") {
  const TaskSpec& t = task_named("social_iqa");
  const DocSplit split = t.load_eval(gemma::test::kBundledSamples);
  REQUIRE(split.docs.size() >= 2);
  CHECK(prompt_of(t, split.docs[0]) ==
        "Q: Morgan packed a tent and a sleeping bag into the car on Friday afternoon. What will Morgan want to "
        "do next?\n"
        "A:");
  CHECK(prompt_of(t, split.docs[1]) ==
        "Q: Parker noticed a neighbour struggling to carry groceries up the stairs. What will Parker want to "
        "do?\n"
        "A:");
  CHECK(t.target_delimiter == " ");
  CHECK(t.doc_to_choice(split.docs[0]) ==
        std::vector<std::string>{"go camping for the weekend", "sell the car", "paint the tent"});
  CHECK(t.doc_to_choice(split.docs[1]) ==
        std::vector<std::string>{"laugh at the neighbour", "close the window", "offer to carry some bags"});
}

// NQ-open: lm_eval/tasks/nq_open/nq_open.yaml: description "Answer these questions:\n\n",
// "Q: {{question}}?\nA:", until ["\n", ".", ","].
TEST_CASE("lm-eval prompts: NQ-open", "[lm_eval_prompts][nq_open]") {
  const TaskSpec& t = task_named("nq_open");
  const DocSplit split = t.load_eval(kSharedData);
  REQUIRE(split.docs.size() >= 2);
  CHECK(prompt_of(t, split.docs[0]) ==
        "Answer these questions:\n"
        "\n"
        "Q: when was the last time anyone was on the moon?\n"
        "A:");
  CHECK(prompt_of(t, split.docs[1]) ==
        "Answer these questions:\n"
        "\n"
        "Q: who wrote he ain't heavy he's my brother lyrics?\n"
        "A:");
  CHECK(t.until == std::vector<std::string>{"\n", ".", ","});
}

// XQuAD: lm_eval/tasks/xquad/xquad_common_yaml (until ["\n"]) + xquad_<lang>.yaml doc_to_text, e.g.
// ar "سياق: {{context}}\n\nسؤال: {{question}}\n\nإجابة:"; rows in google/xquad order (paragraphs, then qas).
TEST_CASE("lm-eval prompts: XQuAD en", "[lm_eval_prompts][xquad]") {
  const TaskSpec& t = task_named("xquad_en");
  const DocSplit split = t.load_eval(kSharedData);
  REQUIRE(split.docs.size() >= 2);
  CHECK(prompt_of(t, split.docs[0]) ==
        "Context: The Panthers defense gave up just 308 points, ranking sixth in the league, while also leading "
        "the NFL in interceptions with 24 and boasting four Pro Bowl selections. Pro Bowl defensive tackle Kawann "
        "Short led the team in sacks with 11, while also forcing three fumbles and recovering two. Fellow lineman "
        "Mario Addison added 6½ sacks. The Panthers line also featured veteran defensive end Jared Allen, a 5-time "
        "pro bowler who was the NFL's active career sack leader with 136, along with defensive end Kony Ealy, "
        "who had 5 sacks in just 9 starts. Behind them, two of the Panthers three starting linebackers were also "
        "selected to play in the Pro Bowl: Thomas Davis and Luke Kuechly. Davis compiled 5½ sacks, four forced "
        "fumbles, and four interceptions, while Kuechly led the team in tackles (118) forced two fumbles, and "
        "intercepted four passes of his own. Carolina's secondary featured Pro Bowl safety Kurt Coleman, who "
        "led the team with a career high seven interceptions, while also racking up 88 tackles and Pro Bowl cornerback "
        "Josh Norman, who developed into a shutdown corner during the season and had four interceptions, two "
        "of which were returned for touchdowns.\n"
        "\n"
        "Question: How many points did the Panthers defense surrender?\n"
        "\n"
        "Answer:");
  CHECK(prompt_of(t, split.docs[1]) ==
        "Context: The Panthers defense gave up just 308 points, ranking sixth in the league, while also leading "
        "the NFL in interceptions with 24 and boasting four Pro Bowl selections. Pro Bowl defensive tackle Kawann "
        "Short led the team in sacks with 11, while also forcing three fumbles and recovering two. Fellow lineman "
        "Mario Addison added 6½ sacks. The Panthers line also featured veteran defensive end Jared Allen, a 5-time "
        "pro bowler who was the NFL's active career sack leader with 136, along with defensive end Kony Ealy, "
        "who had 5 sacks in just 9 starts. Behind them, two of the Panthers three starting linebackers were also "
        "selected to play in the Pro Bowl: Thomas Davis and Luke Kuechly. Davis compiled 5½ sacks, four forced "
        "fumbles, and four interceptions, while Kuechly led the team in tackles (118) forced two fumbles, and "
        "intercepted four passes of his own. Carolina's secondary featured Pro Bowl safety Kurt Coleman, who "
        "led the team with a career high seven interceptions, while also racking up 88 tackles and Pro Bowl cornerback "
        "Josh Norman, who developed into a shutdown corner during the season and had four interceptions, two "
        "of which were returned for touchdowns.\n"
        "\n"
        "Question: How many career sacks did Jared Allen have?\n"
        "\n"
        "Answer:");
  CHECK(t.until == std::vector<std::string>{"\n"});
}

TEST_CASE("lm-eval prompts: XQuAD ar", "[lm_eval_prompts][xquad]") {
  const TaskSpec& t = task_named("xquad_ar");
  const DocSplit split = t.load_eval(kSharedData);
  REQUIRE(split.docs.size() >= 2);
  CHECK(prompt_of(t, split.docs[0]) ==
        "سياق:  لم يتخلى فريق بانثرز سوى عن 308 نقطة، ليحتل المركز السادس في الدوري، متصدراً في الوقت عينه دوري "
        "كرة القدم الأميركية في الاعتراضات مع 24 اعتراضاً ومتمتعاً بـ أربعة اختيارات في قائمة برو بول. وقد تصدر "
        "المدافع المعترض كاوان شورت الفريق في الاستحواذ مع 11 استحواذاً، بينما أجبر الخصم أيضاً على ارتكاب ثلاثة "
        "أخطاء واسترجع اثنين. وقد أضاف زميله لاعب الخط ماريو أديسون 6 استحواذات ونصف. وقد ضم خط Panthers أيضاً "
        "المدافع الأخير المخضرم جاريد ألان، وهو لاعب كرة قدم اختير 5 مرات في قائمة برو بول وكان متصدر اللاعبين "
        "النشطين لدوري كرة القدم الأميركي في الاستحواذ مع 136  استحواذاً، إلى جانب المدافع الأخير كوني إيلي، "
        "الذي حصل على 5 استحواذات في 9 بدايات فقط. وخلفهم، تم أيضاً اختيار اثنين من أظهرة فريق Panthers الثلاثة "
        "الأساسيين للعب في برو بول: توماس ديفيس و لوك كوتشلي. قام ديفيز بتحصيل 5 استحواذ، وأربعة مرات أجبر الخصم "
        "على ارتكاب أخطاء، وأربعة اعتراضات، في حين قاد كوتشلي الفريق في العرقلات (118) وأجبر الخصم على ارتكاب "
        "خطأين، واعترض أربع تمريرات بنفسه. وضم ثانوي كارولاينا مؤمّن برو بول كورت كولمان، الذي تصدر الفريق بأعلى "
        "رقم في مسيرته بسبعة اعتراضات، في حين جمع أيضاً ما يصل إلى 88 عرقلة ومدافع الزاوية في قائمة برو بول جوش "
        "نورمان، الذي تحول إلى ركن إقفال خلال الموسم وقام بأربع اعتراضات، تم إرجاع اثنين منها للهدف.\n"
        "\n"
        "سؤال: كم نقطة تخلى عنها دفاع البانثرز؟\n"
        "\n"
        "إجابة:");
  CHECK(prompt_of(t, split.docs[1]) ==
        "سياق:  لم يتخلى فريق بانثرز سوى عن 308 نقطة، ليحتل المركز السادس في الدوري، متصدراً في الوقت عينه دوري "
        "كرة القدم الأميركية في الاعتراضات مع 24 اعتراضاً ومتمتعاً بـ أربعة اختيارات في قائمة برو بول. وقد تصدر "
        "المدافع المعترض كاوان شورت الفريق في الاستحواذ مع 11 استحواذاً، بينما أجبر الخصم أيضاً على ارتكاب ثلاثة "
        "أخطاء واسترجع اثنين. وقد أضاف زميله لاعب الخط ماريو أديسون 6 استحواذات ونصف. وقد ضم خط Panthers أيضاً "
        "المدافع الأخير المخضرم جاريد ألان، وهو لاعب كرة قدم اختير 5 مرات في قائمة برو بول وكان متصدر اللاعبين "
        "النشطين لدوري كرة القدم الأميركي في الاستحواذ مع 136  استحواذاً، إلى جانب المدافع الأخير كوني إيلي، "
        "الذي حصل على 5 استحواذات في 9 بدايات فقط. وخلفهم، تم أيضاً اختيار اثنين من أظهرة فريق Panthers الثلاثة "
        "الأساسيين للعب في برو بول: توماس ديفيس و لوك كوتشلي. قام ديفيز بتحصيل 5 استحواذ، وأربعة مرات أجبر الخصم "
        "على ارتكاب أخطاء، وأربعة اعتراضات، في حين قاد كوتشلي الفريق في العرقلات (118) وأجبر الخصم على ارتكاب "
        "خطأين، واعترض أربع تمريرات بنفسه. وضم ثانوي كارولاينا مؤمّن برو بول كورت كولمان، الذي تصدر الفريق بأعلى "
        "رقم في مسيرته بسبعة اعتراضات، في حين جمع أيضاً ما يصل إلى 88 عرقلة ومدافع الزاوية في قائمة برو بول جوش "
        "نورمان، الذي تحول إلى ركن إقفال خلال الموسم وقام بأربع اعتراضات، تم إرجاع اثنين منها للهدف.\n"
        "\n"
        "سؤال: كم عدد الاستحواذات التي قام بها جاريد ألين في مسيرته؟\n"
        "\n"
        "إجابة:");
  CHECK(t.until == std::vector<std::string>{"\n"});
}

TEST_CASE("lm-eval prompts: XQuAD de", "[lm_eval_prompts][xquad]") {
  const TaskSpec& t = task_named("xquad_de");
  const DocSplit split = t.load_eval(kSharedData);
  REQUIRE(split.docs.size() >= 2);
  CHECK(prompt_of(t, split.docs[0]) ==
        "Kontext: Die Verteidigung der Panthers gab nur 308 Punkte ab und belegte den sechsten Platz in der Liga, "
        "während sie die NFL mit 24 Interceptions in dieser Kategorie anführte und sich mit vier Pro Bowl-Selektionen "
        "rühmen konnte. Pro Bowl Defensive Tackle Kawann Short führte das Team mit 11 Sacks an, erzwang zudem "
        "drei Fumbles und erzielte zwei Fumble Recoverys. Mario Addison, ebenfalls Lineman, addierte 6½ Sacks "
        "hinzu. Die Panthers-Line präsentierte auch den erfahrenen Defensive End Jared Allen, einen 5-fachen "
        "Pro-Bowler, der mit 136 Sacks der aktive Anführer in der NFL-Kategorie Karriere-Sacks war, sowie den "
        "Defensive End Kony Ealy, der 5 Sacks in nur 9 Starts erzielte. Nach ihnen wurden zwei der drei Linebacker "
        "der Panthers ausgewählt, um im Pro Bowl zu spielen: Thomas Davis und Luke Kuechly. Davis erzielte 5½ "
        "Sacks, vier erzwungene Fumbles und vier Interceptions, während Kuechly das Team bei den Tackles anführte "
        "(118), zwei Fumbles erzwang und vier Pässe abfing. Carolinas Secondarys bestanden aus dem Pro Bowl-Safety "
        "Kurt Coleman, der das Team mit einem Karrierehoch von sieben Interceptions anführte und gleichzeitig "
        "88 Tackles erzielen konnte, und Pro Bowl-Cornerback Josh Norman, der sich während der Saison zur Shutdown "
        "Corner entwickelte und vier Interceptions erzielte, von denen zwei zu Touchdowns für sein Team wurden.\n"
        "\n"
        "Frage: Wie viele Punkte gab die Verteidigung der Panthers ab?\n"
        "\n"
        "Antwort:");
  CHECK(prompt_of(t, split.docs[1]) ==
        "Kontext: Die Verteidigung der Panthers gab nur 308 Punkte ab und belegte den sechsten Platz in der Liga, "
        "während sie die NFL mit 24 Interceptions in dieser Kategorie anführte und sich mit vier Pro Bowl-Selektionen "
        "rühmen konnte. Pro Bowl Defensive Tackle Kawann Short führte das Team mit 11 Sacks an, erzwang zudem "
        "drei Fumbles und erzielte zwei Fumble Recoverys. Mario Addison, ebenfalls Lineman, addierte 6½ Sacks "
        "hinzu. Die Panthers-Line präsentierte auch den erfahrenen Defensive End Jared Allen, einen 5-fachen "
        "Pro-Bowler, der mit 136 Sacks der aktive Anführer in der NFL-Kategorie Karriere-Sacks war, sowie den "
        "Defensive End Kony Ealy, der 5 Sacks in nur 9 Starts erzielte. Nach ihnen wurden zwei der drei Linebacker "
        "der Panthers ausgewählt, um im Pro Bowl zu spielen: Thomas Davis und Luke Kuechly. Davis erzielte 5½ "
        "Sacks, vier erzwungene Fumbles und vier Interceptions, während Kuechly das Team bei den Tackles anführte "
        "(118), zwei Fumbles erzwang und vier Pässe abfing. Carolinas Secondarys bestanden aus dem Pro Bowl-Safety "
        "Kurt Coleman, der das Team mit einem Karrierehoch von sieben Interceptions anführte und gleichzeitig "
        "88 Tackles erzielen konnte, und Pro Bowl-Cornerback Josh Norman, der sich während der Saison zur Shutdown "
        "Corner entwickelte und vier Interceptions erzielte, von denen zwei zu Touchdowns für sein Team wurden.\n"
        "\n"
        "Frage: Wie viele Sacks erzielte Jared Allen in seiner Karriere?\n"
        "\n"
        "Antwort:");
  CHECK(t.until == std::vector<std::string>{"\n"});
}

// HumanEval: lm_eval/tasks/humaneval/humaneval.yaml: doc_to_text "{{prompt}}", until
// ["\nclass", "\ndef", "\n#", "\nif", "\nprint"].
TEST_CASE("lm-eval prompts: HumanEval", "[lm_eval_prompts][humaneval]") {
  const TaskSpec& t = task_named("humaneval");
  const DocSplit split = t.load_eval(kSharedData);
  REQUIRE(split.docs.size() >= 2);
  CHECK(prompt_of(t, split.docs[0]) ==
        "from typing import List\n"
        "\n"
        "\n"
        "def has_close_elements(numbers: List[float], threshold: float) -> bool:\n"
        "    \"\"\" Check if in given list of numbers, are any two numbers closer to each other than\n"
        "    given threshold.\n"
        "    >>> has_close_elements([1.0, 2.0, 3.0], 0.5)\n"
        "    False\n"
        "    >>> has_close_elements([1.0, 2.8, 3.0, 4.0, 5.0, 2.0], 0.3)\n"
        "    True\n"
        "    \"\"\"\n");
  CHECK(prompt_of(t, split.docs[1]) ==
        "from typing import List\n"
        "\n"
        "\n"
        "def separate_paren_groups(paren_string: str) -> List[str]:\n"
        "    \"\"\" Input to this function is a string containing multiple groups of nested parentheses. Your "
        "goal is to\n"
        "    separate those group into separate strings and return the list of those.\n"
        "    Separate groups are balanced (each open brace is properly closed) and not nested within each other\n"
        "    Ignore any spaces in the input string.\n"
        "    >>> separate_paren_groups('( ) (( )) (( )( ))')\n"
        "    ['()', '(())', '(()())']\n"
        "    \"\"\"\n");
  CHECK(t.until == std::vector<std::string>{"\n"
                                            "class",
                                            "\n"
                                            "def",
                                            "\n"
                                            "#",
                                            "\n"
                                            "if",
                                            "\n"
                                            "print"});
}

// MBPP: lm_eval/tasks/mbpp/mbpp.yaml: "You are an expert Python programmer, and here is your task: {{text}} Your
// code should pass these tests:\n\n{{test_list[0]}}\n{{test_list[1]}}\n{{test_list[2]}}\n[BEGIN]\n", until ["[DONE]"];
// the test split is task_ids 11-510.
TEST_CASE("lm-eval prompts: MBPP", "[lm_eval_prompts][mbpp]") {
  const TaskSpec& t = task_named("mbpp");
  const DocSplit split = t.load_eval(kSharedData);
  REQUIRE(split.docs.size() >= 2);
  CHECK(prompt_of(t, split.docs[0]) ==
        "You are an expert Python programmer, and here is your task: Write a python function to remove first "
        "and last occurrence of a given character from the string. Your code should pass these tests:\n"
        "\n"
        "assert remove_Occ(\"hello\",\"l\") == \"heo\"\n"
        "assert remove_Occ(\"abcda\",\"a\") == \"bcd\"\n"
        "assert remove_Occ(\"PHP\",\"P\") == \"H\"\n"
        "[BEGIN]\n");
  CHECK(prompt_of(t, split.docs[1]) ==
        "You are an expert Python programmer, and here is your task: Write a function to sort a given matrix "
        "in ascending order according to the sum of its rows. Your code should pass these tests:\n"
        "\n"
        "assert sort_matrix([[1, 2, 3], [2, 4, 5], [1, 1, 1]])==[[1, 1, 1], [1, 2, 3], [2, 4, 5]]\n"
        "assert sort_matrix([[1, 2, 3], [-2, 4, -5], [1, -1, 1]])==[[-2, 4, -5], [1, -1, 1], [1, 2, 3]]\n"
        "assert sort_matrix([[5,8,9],[6,4,3],[2,1,4]])==[[2, 1, 4], [6, 4, 3], [5, 8, 9]]\n"
        "[BEGIN]\n");
  CHECK(t.until == std::vector<std::string>{"[DONE]"});
  CHECK(t.target_delimiter.empty());
}

// AGIEval: lm_eval/tasks/agieval/<dataset>.yaml: doc_to_text "{{query}}", doc_to_choice "{{choices}}"
// (math: generate until ["Q:"]); hails/agieval-<dataset>'s query is AGIEval's dataset_loader.convert_zero_shot:
// "Q: " + question + " Answer Choices: " + " ".join(options) + "\nA: Among A through <last>, the answer is",
// cloze "Q: " + question + "\nA: The answer is".
TEST_CASE("lm-eval prompts: AGIEval aqua-rat", "[lm_eval_prompts][agieval]") {
  const TaskSpec& t = task_named("agieval_aqua_rat");
  const DocSplit split = t.load_eval(kSharedData);
  REQUIRE(split.docs.size() >= 2);
  CHECK(prompt_of(t, split.docs[0]) ==
        "Q: A car is being driven, in a straight line and at a uniform speed, towards the base of a vertical "
        "tower. The top of the tower is observed from the car and, in the process, it takes 10 minutes for the "
        "angle of elevation to change from 45° to 60°. After how much more time will this car reach the base "
        "of the tower? Answer Choices: (A)5(√3 + 1) (B)6(√3 + √2) (C)7(√3 – 1) (D)8(√3 – 2) (E)None of these\n"
        "A: Among A through E, the answer is");
  CHECK(prompt_of(t, split.docs[1]) ==
        "Q: The original price of an item is discounted 22%. A customer buys the item at this discounted price "
        "using a $20-off coupon. There is no tax on the item, and this was the only item the customer bought. "
        "If the customer paid $1.90 more than half the original price of the item, what was the original price "
        "of the item? Answer Choices: (A)$61 (B)$65 (C)$67.40 (D)$70 (E)$78.20\n"
        "A: Among A through E, the answer is");
  CHECK(t.target_delimiter == " ");
  CHECK(t.doc_to_choice(split.docs[0]) ==
        std::vector<std::string>{"(A)5(√3 + 1)", "(B)6(√3 + √2)", "(C)7(√3 – 1)", "(D)8(√3 – 2)", "(E)None of these"});
  CHECK(t.doc_to_choice(split.docs[1]) ==
        std::vector<std::string>{"(A)$61", "(B)$65", "(C)$67.40", "(D)$70", "(E)$78.20"});
}

TEST_CASE("lm-eval prompts: AGIEval math", "[lm_eval_prompts][agieval]") {
  const TaskSpec& t = task_named("agieval_math");
  const DocSplit split = t.load_eval(kSharedData);
  REQUIRE(split.docs.size() >= 2);
  CHECK(prompt_of(t, split.docs[0]) ==
        "Q: Let $\\lambda$ be a constant, $0 \\le \\lambda \\le 4,$ and let $f : [0,1] \\to [0,1]$ be defined "
        "by\n"
        "\\[f(x) = \\lambda x(1 - x).\\]Find the values of $\\lambda,$ $0 \\le \\lambda \\le 4,$ for which there "
        "exists an $x \\in [0,1]$ such that $f(x) \\neq x$ but $f(f(x)) = x.$\n"
        "A: The answer is");
  CHECK(prompt_of(t, split.docs[1]) ==
        "Q: What is the coefficient of $x^2y^2$ in the expansion of $(x+y)^4+(x+2y)^4$?\n"
        "A: The answer is");
  CHECK(t.until == std::vector<std::string>{"Q:"});
}

// No shared copy of the datasets below: their rows are written in the published layout the loaders
// read, and rendered as lm-eval renders those rows.

// TriviaQA: lm_eval/tasks/triviaqa/default.yaml: "Question: {{question}}?\nAnswer:", until ["\n", ".", ","].
TEST_CASE("lm-eval prompts: TriviaQA", "[lm_eval_prompts][triviaqa]") {
  test::TempDir dir;
  write_file(
      dir.path / "triviaqa/rc.nocontext/validation.jsonl",
      "{\"question\": \"Who was the man behind The Chipmunks?\", \"question_id\": \"tc_2\", \"answer\": {\"aliases\": "
      "[\"David Seville\"], \"normalized_aliases\": [\"david seville\"], \"value\": \"David Seville\"}}\n"
      "{\"question\": \"Which Lloyd Webber musical premiered in the US on 10th December 1993?\", \"question_id\": "
      "\"tc_33\", \"answer\": {\"aliases\": [\"Sunset Blvd\", \"West Sunset Boulevard\", \"Sunset Boulevard\"], "
      "\"normalized_aliases\": [], \"value\": \"Sunset Boulevard\"}}\n");
  const TaskSpec& t = task_named("triviaqa");
  const DocSplit split = t.load_eval(dir.path);
  REQUIRE(split.docs.size() == 2);
  CHECK(prompt_of(t, split.docs[0]) ==
        "Question: Who was the man behind The Chipmunks??\n"
        "Answer:");
  CHECK(prompt_of(t, split.docs[1]) ==
        "Question: Which Lloyd Webber musical premiered in the US on 10th December 1993??\n"
        "Answer:");
  CHECK(t.until == std::vector<std::string>{"\n", ".", ","});
}

// DROP: lm_eval/tasks/drop/default.yaml: "{{passage}} {{question}}", target_delimiter "", until ["."].
TEST_CASE("lm-eval prompts: DROP", "[lm_eval_prompts][drop]") {
  test::TempDir dir;
  write_file(
      dir.path / "drop/drop_dataset/drop_dataset_dev.json",
      "{\"nfl_2201\": {\"passage\": \"To start the season, the Lions traveled south to Tampa, Florida to take "
      "on the Tampa Bay Buccaneers. The Lions scored first in the first quarter with a 23-yard field goal by "
      "Jason Hanson.\", \"qa_pairs\": [{\"question\": \"How many yards was the field goal?\", \"query_id\": "
      "\"q1\", \"answer\": {\"number\": \"23\", \"date\": {\"day\": \"\", \"month\": \"\", \"year\": \"\"}, "
      "\"spans\": []}, \"validated_answers\": []}, {\"question\": \"Who kicked the field goal?\", \"query_id\": "
      "\"q2\", \"answer\": {\"number\": \"\", \"date\": {\"day\": \"\", \"month\": \"\", \"year\": \"\"}, \"spans\": "
      "[\"Jason Hanson\"]}, \"validated_answers\": []}]}}");
  const TaskSpec& t = task_named("drop");
  const DocSplit split = t.load_eval(dir.path);
  REQUIRE(split.docs.size() == 2);
  CHECK(prompt_of(t, split.docs[0]) ==
        "To start the season, the Lions traveled south to Tampa, Florida to take on the Tampa Bay Buccaneers. "
        "The Lions scored first in the first quarter with a 23-yard field goal by Jason Hanson. How many yards "
        "was the field goal?");
  CHECK(prompt_of(t, split.docs[1]) ==
        "To start the season, the Lions traveled south to Tampa, Florida to take on the Tampa Bay Buccaneers. "
        "The Lions scored first in the first quarter with a 23-yard field goal by Jason Hanson. Who kicked the "
        "field goal?");
  CHECK(t.until == std::vector<std::string>{"."});
  CHECK(t.target_delimiter.empty());
}

// GPQA: lm_eval/tasks/gpqa/n_shot/_gpqa_n_shot_yaml (description, "Question: {{Question}}\nChoices:\n(A)
// {{choice1}}\n...\nAnswer:", choices ["(A)", "(B)", "(C)", "(D)"]) and n_shot/utils.py process_docs:
// [inc1, inc2, inc3, correct], each stripped, shuffled in file order by one random.Random(42).
TEST_CASE("lm-eval prompts: GPQA n-shot", "[lm_eval_prompts][gpqa]") {
  test::TempDir dir;
  write_file(dir.path / "gpqa/gpqa_main.csv",
             "\"Pre-Revision Question\",\"Question\",\"Correct Answer\",\"Incorrect Answer 1\",\"Incorrect Answer "
             "2\",\"Incorrect Answer 3\"\n"
             "\"x\",\"Which of the following is a noble gas?\",\" Argon \",\"Nitrogen\",\"Oxygen\",\"Chlorine\"\n"
             "\"y\",\"What is the charge of an electron?\",\"-1 e\",\"+1 e\",\"0\",\"+2 e\"\n");
  const TaskSpec& t = task_named("gpqa_main_n_shot");
  const DocSplit split = t.load_eval(dir.path);
  REQUIRE(split.docs.size() == 2);
  CHECK(prompt_of(t, split.docs[0]) ==
        "Here are some example questions from experts. Answer the final question yourself, following the format "
        "of the previous questions exactly.\n"
        "Question: Which of the following is a noble gas?\n"
        "Choices:\n"
        "(A) Chlorine\n"
        "(B) Oxygen\n"
        "(C) Argon\n"
        "(D) Nitrogen\n"
        "Answer:");
  CHECK(prompt_of(t, split.docs[1]) ==
        "Here are some example questions from experts. Answer the final question yourself, following the format "
        "of the previous questions exactly.\n"
        "Question: What is the charge of an electron?\n"
        "Choices:\n"
        "(A) -1 e\n"
        "(B) +2 e\n"
        "(C) +1 e\n"
        "(D) 0\n"
        "Answer:");
  CHECK(t.target_delimiter == " ");
  CHECK(t.doc_to_choice(split.docs[0]) == std::vector<std::string>{"(A)", "(B)", "(C)", "(D)"});
  CHECK(t.doc_to_choice(split.docs[1]) == std::vector<std::string>{"(A)", "(B)", "(C)", "(D)"});
}

// MMLU-Pro: lm_eval/tasks/mmlu_pro/_default_template_yaml + utils.doc_to_text (format_cot_example without
// the answer): "Question:\n{question}\nOptions:\n" + "{L}. {option}\n"... + "Answer: Let's think step by step.",
// after the category's description.
TEST_CASE("lm-eval prompts: MMLU-Pro", "[lm_eval_prompts][mmlu_pro]") {
  test::TempDir dir;
  write_file(
      dir.path / "mmlu_pro/test.jsonl",
      "{\"question_id\": 70, \"question\": \"Which of the following is the body cavity that contains the pituitary "
      "gland?\", \"options\": [\"Ventral\", \"Dorsal\", \"Buccal\", \"Thoracic\", \"Pericardial\", \"Abdominal\", "
      "\"Spinal\", \"Pelvic\", \"Pleural\", \"Cranial\"], \"answer\": \"J\", \"answer_index\": 9, \"cot_content\": "
      "\"\", \"category\": \"biology\", \"src\": \"ori_mmlu-anatomy\"}\n"
      "{\"question_id\": 71, \"question\": \"What is the embryological origin of the hyoid bone?\", \"options\": "
      "[\"The third and fourth pharyngeal arches\", \"The fourth pharyngeal arch\", \"The second pharyngeal "
      "arch\"], \"answer\": \"C\", \"answer_index\": 2, \"cot_content\": \"\", \"category\": \"biology\", \"src\": "
      "\"ori_mmlu-anatomy\"}\n"
      "{\"question_id\": 72, \"question\": \"Not biology\", \"options\": [\"a\", \"b\"], \"answer\": \"A\", "
      "\"answer_index\": 0, \"cot_content\": \"\", \"category\": \"law\", \"src\": \"x\"}\n");
  const TaskSpec& t = task_named("mmlu_pro_biology");
  const DocSplit split = t.load_eval(dir.path);
  REQUIRE(split.docs.size() == 2);
  CHECK(prompt_of(t, split.docs[0]) ==
        "The following are multiple choice questions (with answers) about biology. Think step by step and then "
        "finish your answer with \"the answer is (X)\" where X is the correct letter choice.\n"
        "Question:\n"
        "Which of the following is the body cavity that contains the pituitary gland?\n"
        "Options:\n"
        "A. Ventral\n"
        "B. Dorsal\n"
        "C. Buccal\n"
        "D. Thoracic\n"
        "E. Pericardial\n"
        "F. Abdominal\n"
        "G. Spinal\n"
        "H. Pelvic\n"
        "I. Pleural\n"
        "J. Cranial\n"
        "Answer: Let's think step by step.");
  CHECK(prompt_of(t, split.docs[1]) ==
        "The following are multiple choice questions (with answers) about biology. Think step by step and then "
        "finish your answer with \"the answer is (X)\" where X is the correct letter choice.\n"
        "Question:\n"
        "What is the embryological origin of the hyoid bone?\n"
        "Options:\n"
        "A. The third and fourth pharyngeal arches\n"
        "B. The fourth pharyngeal arch\n"
        "C. The second pharyngeal arch\n"
        "Answer: Let's think step by step.");
  CHECK(t.until == std::vector<std::string>{"Question:"});
}

// Global-MMLU-Lite: lm_eval/tasks/global_mmlu/default/<lang>/_<lang>_template_yaml: "{{question.strip()}}\nA.
// {{option_a}}\nB. {{option_b}}\nC. {{option_c}}\nD. {{option_d}}\nAnswer:", choices A-D, no description; the
// subtask keeps its subject_category.
TEST_CASE("lm-eval prompts: Global-MMLU-Lite", "[lm_eval_prompts][global_mmlu]") {
  test::TempDir dir;
  write_file(
      dir.path / "global_mmlu_lite/en/test.jsonl",
      "{\"sample_id\": \"astronomy/test/58\", \"subject\": \"astronomy\", \"subject_category\": \"STEM\", "
      "\"question\": "
      "\" Why is Mars red? \", \"option_a\": \"Because the surface is covered with heavily oxidized (\\\"rusted\\\") "
      "minerals.\", \"option_b\": \"Because the atmosphere scatters more light at bluer wavelengths transmitting "
      "mostly red light.\", \"option_c\": \"Because Mars is covered with ancient lava flows which are red in "
      "color.\", \"option_d\": \"Because flowing water on Mars's surface altered the surface minerals several "
      "billion years ago.\", \"answer\": \"A\", \"cultural_sensitivity_label\": \"CA\"}\n"
      "{\"sample_id\": \"business_ethics/test/1\", \"subject\": \"business_ethics\", \"subject_category\": "
      "\"Business\", \"question\": \"q\", \"option_a\": \"a\", \"option_b\": \"b\", \"option_c\": \"c\", \"option_d\": "
      "\"d\", \"answer\": \"B\", \"cultural_sensitivity_label\": \"CA\"}\n"
      "{\"sample_id\": \"college_physics/test/3\", \"subject\": \"college_physics\", \"subject_category\": "
      "\"STEM\", \"question\": \"Which of the following is true?\\n\", \"option_a\": \"1\", \"option_b\": \"2\", "
      "\"option_c\": \"3\", \"option_d\": \"4\", \"answer\": \"C\", \"cultural_sensitivity_label\": \"CA\"}\n");
  const TaskSpec& t = task_named("global_mmlu_en_stem");
  const DocSplit split = t.load_eval(dir.path);
  REQUIRE(split.docs.size() == 2);
  CHECK(prompt_of(t, split.docs[0]) ==
        "Why is Mars red?\n"
        "A. Because the surface is covered with heavily oxidized (\"rusted\") minerals.\n"
        "B. Because the atmosphere scatters more light at bluer wavelengths transmitting mostly red light.\n"
        "C. Because Mars is covered with ancient lava flows which are red in color.\n"
        "D. Because flowing water on Mars's surface altered the surface minerals several billion years ago.\n"
        "Answer:");
  CHECK(prompt_of(t, split.docs[1]) ==
        "Which of the following is true?\n"
        "A. 1\n"
        "B. 2\n"
        "C. 3\n"
        "D. 4\n"
        "Answer:");
  CHECK(t.target_delimiter == " ");
  CHECK(t.doc_to_choice(split.docs[0]) == std::vector<std::string>{"A", "B", "C", "D"});
  CHECK(t.doc_to_choice(split.docs[1]) == std::vector<std::string>{"A", "B", "C", "D"});
}
