#!/usr/bin/env python3
"""Renders the Jinja engine's test cases with the real Jinja2 (3.1) and writes cases.json.

Run from the repository root:  python3 tests/data/jinja/make_cases.py
tests/unit/test_jinja.cpp renders every case with common/jinja.h and compares. Each case is rendered the
way its user renders it: "lm_eval" as lm-eval renders task templates (lm_eval/utils.py:
Environment(undefined=StrictUndefined, keep_trailing_newline=True)), "chat" as transformers renders chat
templates (trim_blocks, lstrip_blocks, default Undefined, a raise_exception global, json.dumps as tojson).
An error case records Jinja's message and the template line Jinja names.
"""
import json
import os
import traceback

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment

HERE = os.path.dirname(os.path.abspath(__file__))


def lm_eval_environment():
    return jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True)


def chat_environment():
    # transformers/utils/chat_template_utils.py _compile_jinja_template
    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=["jinja2.ext.loopcontrols"])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    return env


ENVIRONMENTS = {"lm_eval": lm_eval_environment(), "chat": chat_environment()}

MMLU_DOC = {
    "question": "  Which of the following is a prime number?\n",
    "subject": "abstract_algebra",
    "choices": ["4", "6", "7", "9"],
    "answer": 2,
}
ARC_DOC = {
    "id": "Mercury_7175875",
    "question": "An astronomer observes that a planet rotates faster after a meteorite impact. Which is the most likely effect of this increase in rotation?",
    "choices": {
        "text": ["Planetary density will decrease.", "Planetary years will become longer.",
                 "Planetary days will become shorter.", "Planetary gravity will become stronger."],
        "label": ["A", "B", "C", "D"],
    },
    "answerKey": "C",
}
GSM8K_DOC = {
    "question": "Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in May. How many clips did Natalia sell altogether in April and May?",
    "answer": "Natalia sold 48/2 = <<48/2=24>>24 clips in May.\nNatalia sold 48+24 = <<48+24=72>>72 clips altogether in April and May.\n#### 72",
}
BOOLQ_DOC = {"question": "is windows movie maker part of windows essentials", "passage": "Windows Movie Maker (formerly known as Windows Live Movie Maker in Windows 7) is a discontinued video editing software by Microsoft.", "label": 1}
PIQA_DOC = {"goal": "How do I ready a guinea pig cage for it's new occupants?", "sol1": "Provide the guinea pig with a cage full of a few inches of bedding made of ripped paper strips, you will also need to supply it with a water bottle and a food dish.", "sol2": "Provide the guinea pig with a cage full of a few inches of bedding made of ripped jeans material, you will also need to supply it with a water bottle and a food dish.", "label": 0}
OBQA_DOC = {"id": "7-980", "question_stem": "The sun is responsible for", "choices": {"text": ["puppies learning new tricks", "children growing up and getting old", "flowers wilting in a vase", "plants sprouting, blooming and wilting"], "label": ["A", "B", "C", "D"]}, "answerKey": " D"}
SCIQ_DOC = {"question": "What type of organism is commonly used in preparation of foods such as cheese and yogurt?", "distractor3": "viruses", "distractor1": "protozoa", "distractor2": "gymnosperms", "correct_answer": "mesophilic organisms", "support": "Mesophiles grow best in moderate temperature, typically between 25\u00b0C and 40\u00b0C (77\u00b0F and 104\u00b0F)."}
HEADQA_DOC = {"qtext": "Which of the following is an example of a chronic disease?", "ra": 3, "answers": [{"aid": 1, "atext": "Flu"}, {"aid": 2, "atext": "Cold"}, {"aid": 3, "atext": "Diabetes"}, {"aid": 4, "atext": "Measles"}]}
LAMBADA_DOC = {"text": "In my palm is a clear stone, and inside it is a small ivory statuette. A guardian angel.\n\n\"Figured if you're going to be out at night getting hit by cars, you might as well have some backup.\"\n\nI look at him, feeling stunned. Like this is some sort of sign. But as I stare at Harlin, his mouth curved in a confident grin, I don't care about signs"}
MGSM_DOC = {"question": "Janet\u2019s ducks lay 16 eggs per day.", "answer": None, "answer_number": 18, "equation_solution": None}
TRIVIA_DOC = {"question": "Who was the man behind The Chipmunks", "answer": {"aliases": ["David Seville", "david seville"], "value": "David Seville"}}
CSQA_DOC = {"question": " The sanctions against the school were a punishing blow, and they seemed to what the efforts the school had made to change? ", "choices": {"label": ["A", "B", "C", "D", "E"], "text": ["ignore", "enforce", "authoritarian", "yell at", "avoid"]}, "answerKey": "A "}

CASES = [
    # ---- real lm-eval task templates (lm_eval/tasks/*/...yaml) ----
    ("mmlu doc_to_text", "{{question.strip()}}\nA. {{choices[0]}}\nB. {{choices[1]}}\nC. {{choices[2]}}\nD. {{choices[3]}}\nAnswer:", MMLU_DOC),
    ("mmlu doc_to_choice", "{{['A', 'B', 'C', 'D']}}", MMLU_DOC),
    ("mmlu description", "The following are multiple choice questions (with answers) about {{subject.replace('_', ' ')}}.\n\n", MMLU_DOC),
    ("arc doc_to_text", "Question: {{question}}\nAnswer:", ARC_DOC),
    ("arc doc_to_target", "{{choices.label.index(answerKey)}}", ARC_DOC),
    ("arc doc_to_choice", "{{choices.text}}", ARC_DOC),
    ("gsm8k doc_to_text", "Question: {{question}}\nAnswer:", GSM8K_DOC),
    ("gsm8k doc_to_target", "{{answer}}", GSM8K_DOC),
    ("gsm8k-cot doc_to_target", "{{answer.split('####')[-1].strip() if answer is defined else target}}", GSM8K_DOC),
    ("gsm8k-cot doc_to_text", "Q: {{question}}\nA:", GSM8K_DOC),
    ("boolq doc_to_text", "{{passage}}\nQuestion: {{question}}?\nAnswer:", BOOLQ_DOC),
    ("boolq doc_to_target", "{{label}}", BOOLQ_DOC),
    ("piqa doc_to_text", "Question: {{goal}}\nAnswer:", PIQA_DOC),
    ("piqa doc_to_choice", "{{[sol1, sol2]}}", PIQA_DOC),
    ("openbookqa doc_to_target", "{{choices.label.index(answerKey.lstrip())}}", OBQA_DOC),
    ("openbookqa doc_to_text", "{{question_stem}}", OBQA_DOC),
    ("sciq doc_to_text", "{{support.lstrip()}}\nQuestion: {{question}}\nAnswer:", SCIQ_DOC),
    ("sciq doc_to_choice", "{{[distractor1, distractor2, distractor3, correct_answer]}}", SCIQ_DOC),
    ("headqa doc_to_target", "{{ra - 1}}", HEADQA_DOC),
    ("headqa doc_to_choice", "{{answers|map(attribute='atext')|list}}", HEADQA_DOC),
    ("lambada doc_to_text", "{{text.split(' ')[:-1]|join(' ')}}", LAMBADA_DOC),
    ("lambada doc_to_target", "{{' '+text.split(' ')[-1]}}", LAMBADA_DOC),
    ("mgsm doc_to_text", "{% if answer is not none %}{{question+\"\\nStep-by-Step Answer:\"}}{% else %}{{\"Question: \"+question+\"\\nStep-by-Step Answer:\"}}{% endif %}", MGSM_DOC),
    ("mgsm doc_to_target", "{% if answer is not none %}{{answer[21:]}}{% else %}{{answer_number|string}}{% endif %}", MGSM_DOC),
    ("triviaqa doc_to_text", "Question: {{question}}?\nAnswer:", TRIVIA_DOC),
    ("triviaqa doc_to_target", "{{answer.aliases}}", TRIVIA_DOC),
    ("commonsense_qa doc_to_text", "Question: {{ question.strip() }}\nA. {{choices['text'][0]}}\nB. {{choices['text'][1]}}\nC. {{choices['text'][2]}}\nD. {{choices['text'][3]}}\nE. {{choices['text'][4]}}\nAnswer:", CSQA_DOC),
    ("commonsense_qa doc_to_target", "{{ choices.label.index(answerKey.strip()) }}", CSQA_DOC),
    ("truthfulqa preamble", "{{'Q: What is human life expectancy in the United States?\\nA: Human life expectancy in the United States is 78 years.\\n\\n' + 'Q: ' + question + '\\nA:'}}", {"question": "What is 2+2?"}),
    ("anli doc_to_text", "{{premise}}\nQuestion: {{hypothesis}} True, False, or Neither?\nAnswer:", {"premise": "A man walks.", "hypothesis": "A person moves."}),
    ("glue doc_to_text", "{{sentence}}\nQuestion: Is this sentence positive or negative?\nAnswer:", {"sentence": "it 's a charming and often affecting journey . "}),
    ("bbh doc_to_text", "Q: {{input}}\nA:", {"input": "not ( True ) and ( True ) is"}),
    ("xwinograd-like partial", "{{sentence[:sentence.index('_')]}}", {"sentence": "The trophy doesn't fit into the brown suitcase because the _ is too large."}),
    ("hellaswag-like", "{{activity_label}}: {{ctx_a + ' ' + ctx_b.capitalize()}}", {"activity_label": "Removing ice from car", "ctx_a": "Then, the man writes over the snow covering the window of a car, and a woman wearing winter clothes smiles.", "ctx_b": "then"}),
    ("trailing newline kept", "Answer: {{x}}\n", {"x": 1}),
    # ---- expressions ----
    ("literals", "{{ 1 }} {{ -2 }} {{ 1.5 }} {{ 1e3 }} {{ 'a' \"b\" }} {{ true }} {{ False }} {{ none }} {{ [1, 'x', none, true, 2.0] }} {{ {'k': 'v', 'n': [1]} }}", {}),
    ("float repr", "{{ 0.1 + 0.2 }} {{ 1/3 }} {{ 1e16 }} {{ 1e15 }} {{ 0.0001 }} {{ 0.00001 }} {{ 2.5e-10 }} {{ 10/2 }} {{ -0.0 }} {{ 123456789.125 }}", {}),
    ("arithmetic", "{{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % 3 }} {{ -7 % 3 }} {{ 7 % -3 }} {{ 2 ** 10 }} {{ 2 ** -1 }} {{ 7.5 // 2 }} {{ -7.5 % 2 }} {{ 3 * 'ab' }} {{ [1] * 3 }} {{ true + 1 }} {{ 1 + 2 * 3 - 4 / 2 }}", {}),
    ("concat", "{{ 'a' ~ 1 ~ none ~ [1] }} {{ 'a' + 'b' }} {{ [1] + [2] }}", {}),
    ("comparison", "{{ 1 == 1.0 }} {{ 1 == true }} {{ 'a' < 'b' }} {{ [1, 2] < [1, 3] }} {{ 1 < 2 < 3 }} {{ 3 > 2 > 2 }} {{ 'a' != 'a' }} {{ none == none }}", {}),
    ("in", "{{ 'b' in 'abc' }} {{ 2 in [1, 2] }} {{ 'k' in {'k': 1} }} {{ 'z' not in 'abc' }} {{ 3 not in [3] }}", {}),
    ("and or return operands", "{{ 0 or 'x' }} {{ '' or [] }} {{ 'a' and 'b' }} {{ 0 and 1 }} {{ not 0 }} {{ not 'a' }} {{ none or 0 or 'last' }}", {}),
    ("conditional expression", "{{ 'yes' if x else 'no' }} {{ 'yes' if not x else 'no' }} [{{ 'only' if x }}] [{{ 'only' if not x }}]", {"x": True}),
    ("indexing and slicing", "{{ s[0] }} {{ s[-1] }} {{ s[1:3] }} {{ s[::-1] }} {{ s[-3:] }} {{ l[1] }} {{ l[-2] }} {{ l[:2] }} {{ l[::2] }} {{ l[5:] }} {{ s[10:] }} {{ l[-100:1] }}", {"s": "h\u00e9llo w\u00f6rld", "l": [1, 2, 3, 4, 5]}),
    ("attribute and item access", "{{ d.a }} {{ d['a'] }} {{ d.b.c }} {{ d['b']['c'] }} {{ l.0 }} {{ l.1.x }}", {"d": {"a": 1, "b": {"c": "deep"}}, "l": ["z", {"x": "y"}]}),
    ("unicode code points", "{{ s|length }} {{ s[1] }} {{ s.upper() }} {{ s|upper }} {{ s.index('\u00df') }} {{ '\u00c9COLE'.lower() }}", {"s": "stra\u00dfe \u0444\u044b\u0432"}),
    ("string escapes", "{{ 'a\\nb\\tc\\\\d\\'e' }}|{{ \"\\u00e9\\x41\" }}|{{ 'a\\qb' }}", {}),
    ("python str of values", "{{ l }} {{ d }} {{ t }} {{ n }} {{ f }} {{ nested }}", {"l": ["it's", "say \"hi\"", "both ' and \"", "back\\slash", "new\nline"], "d": {"a": [1, 2.5, None, True]}, "t": True, "n": None, "f": 3.0, "nested": [[{}], []]}),
    ("python str of unicode in lists", "{{ ['\u00e9', '\u4e2d', '\u00a0', '\x07'] }}", {}),
    # ---- string methods ----
    ("strip family", "[{{ s.strip() }}] [{{ s.lstrip() }}] [{{ s.rstrip() }}] [{{ 'xxaxx'.strip('x') }}] [{{ 'abcba'.lstrip('ab') }}]", {"s": " \t hi there \n"}),
    ("split", "{{ 'a b  c'.split() }} {{ 'a,b,,c'.split(',') }} {{ 'a b c'.split(' ', 1) }} {{ '  a  b '.split(none, 1) }} {{ 'x'.split('x') }}", {}),
    ("replace", "{{ 'aaa'.replace('a', 'b') }} {{ 'aaa'.replace('a', 'b', 2) }} {{ 'ab'.replace('', '-') }}", {}),
    ("find and index", "{{ 'hello'.index('l') }} {{ 'hello'.find('z') }} {{ 'hello'.rfind('l') }} {{ 'hello'.count('l') }} {{ 'h\u00e9llo'.index('l') }}", {}),
    ("startswith endswith", "{{ 'hello'.startswith('he') }} {{ 'hello'.endswith('lo') }} {{ 'hello'.startswith(('x', 'h')) }} {{ 'hello'.endswith('x') }}", {}),
    ("join method", "{{ ', '.join(l) }} {{ ''.join(['a', 'b']) }}", {"l": ["x", "y", "z"]}),
    ("format method", "{{ '{} and {}'.format('a', 1) }} {{ '{1}{0}'.format('a', 'b') }} {{ '{name}!'.format(name='x') }} {{ '{{literal}}'.format() }} {{ '{!r}'.format('q') }}", {}),
    ("case methods", "{{ 'hello world'.title() }} {{ 'hELLO'.capitalize() }} {{ 'ABC'.lower() }} {{ 'abc'.upper() }} {{ '123'.isdigit() }} {{ 'ab1'.isalpha() }}", {}),
    ("dict methods", "{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %} {{ d.keys()|list }} {{ d.values()|list }} {{ d.get('a') }} {{ d.get('z') }} {{ d.get('z', 'dflt') }}", {"d": {"a": 1, "b": [2]}}),
    ("list methods", "{{ l.index('b') }} {{ l.count('a') }}", {"l": ["a", "b", "a"]}),
    ("percent formatting", "{{ '%s-%d' % ('a', 3) }} {{ '%.2f' % 3.14159 }} {{ '%s'|format('x') }} {{ '%5s|%-5s|' % ('r', 'l') }} {{ '100%%' % () }}", {}),
    # ---- filters ----
    ("string filters", "{{ s|trim }}|{{ s|lower }}|{{ s|upper }}|{{ s|replace('B', 'x') }}|{{ s|length }}|{{ s|count }}|{{ s|capitalize }}|{{ s|title }}", {"s": "  aBc dEf  "}),
    ("number filters", "{{ '42'|int }} {{ '4.7'|int }} {{ 'x'|int }} {{ 'x'|int(7) }} {{ 3.9|int }} {{ '0x1A'|int(0, 16) }} {{ '2.5'|float }} {{ 'y'|float }} {{ 3|float }} {{ -3|abs }} {{ 2.567|round(2) }} {{ 2.5|round }} {{ 2.1|round(0, 'ceil') }}", {}),
    ("list filters", "{{ l|first }} {{ l|last }} {{ l|length }} {{ l|join }} {{ l|join('-') }} {{ 'abc'|list }} {{ l|reverse|list }} {{ [3, 1, 2]|sort }} {{ [3, 1, 2]|sort(reverse=true) }} {{ [1, 2, 1]|unique|list }} {{ [1, 2, 3]|sum }} {{ [4, 2, 8]|min }} {{ [4, 2, 8]|max }} {{ 'abc'|first }} {{ 'abc'|last }}", {"l": ["x", "y", "z"]}),
    ("default filter", "{{ x|default('dflt') }} {{ y|default('dflt') }} {{ y|d('d2') }} {{ ''|default('empty', true) }} {{ ''|default('empty') }} {{ none|default('n') }}", {"y": "set"}),
    ("tojson lm-eval", "{{ d|tojson }} {{ 'caf\u00e9 <b> & \\'q\\''|tojson }} {{ [1, 2.5, none, true]|tojson }} {{ d|tojson(indent=2) }}", {"d": {"b": 1, "a": [1, "x"], "c": {}}}),
    ("map and select", "{{ l|map(attribute='n')|list }} {{ l|selectattr('ok')|map(attribute='n')|join(',') }} {{ l|rejectattr('ok')|map(attribute='n')|list }} {{ l|selectattr('n', 'equalto', 'b')|list|length }} {{ ['A', 'b']|map('lower')|list }} {{ [1, 2, 3, 4]|select('odd')|list }} {{ [1, 2, 3, 4]|reject('even')|list }}", {"l": [{"n": "a", "ok": True}, {"n": "b", "ok": False}, {"n": "c", "ok": True}]}),
    ("items filter and dictsort-free loops", "{% for k, v in d|items %}{{ k }}:{{ v }} {% endfor %}", {"d": {"z": 1, "a": 2}}),
    ("string filter on values", "{{ 1|string }} {{ [1, 'a']|string }} {{ none|string }} {{ 1.0|string ~ 'x' }}", {}),
    ("escape and indent", "{{ '<a href=\"x\">&</a>'|e }}|{{ 'a\nb\n\nc'|indent(2) }}|{{ 'a\nb'|indent(2, true) }}", {}),
    # ---- tests ----
    ("tests", "{{ x is defined }} {{ y is defined }} {{ y is undefined }} {{ n is none }} {{ s is string }} {{ 1 is number }} {{ 1.5 is float }} {{ 1 is integer }} {{ true is boolean }} {{ d is mapping }} {{ l is iterable }} {{ s is sequence }} {{ 3 is odd }} {{ 4 is even }} {{ 9 is divisibleby 3 }} {{ 9 is divisibleby(4) }} {{ s is not string }} {{ 'a' is in 'abc' }} {{ 1 is eq 1 }} {{ 2 is gt 1 }} {{ true is sameas true }} {{ 'ABC' is upper }} {{ 'abc' is lower }}", {"x": 1, "n": None, "s": "str", "d": {}, "l": []}),
    ("defined on missing attribute and index", "{{ d.missing is defined }} {{ d['a'] is defined }} {{ l[3] is defined }} {{ l[0] is defined }} {{ d.missing is not defined }}", {"d": {"a": 1}, "l": [1]}),
    # ---- statements ----
    ("if elif else", "{% for x in [1, 2, 3, 4] %}{% if x == 1 %}one{% elif x == 2 %}two{% elif x > 3 %}big{% else %}other{% endif %} {% endfor %}", {}),
    ("for loop variables", "{% for x in l %}{{ loop.index }}/{{ loop.index0 }}/{{ loop.revindex }}/{{ loop.revindex0 }}/{{ loop.first }}/{{ loop.last }}/{{ loop.length }}:{{ x }} {% endfor %}", {"l": ["a", "b", "c"]}),
    ("for previtem nextitem cycle", "{% for x in l %}{{ loop.previtem if not loop.first else '-' }}{{ x }}{{ loop.nextitem if not loop.last else '-' }}{{ loop.cycle('o', 'e') }} {% endfor %}", {"l": [1, 2, 3]}),
    ("for else", "{% for x in [] %}{{ x }}{% else %}empty{% endfor %} {% for x in [1] %}{{ x }}{% else %}empty{% endfor %}", {}),
    ("for with filter", "{% for x in range(10) if x is odd %}{{ x }}{{ ',' if not loop.last }}{% endfor %}", {}),
    ("for over dict and string", "{% for k in d %}{{ k }}{% endfor %} {% for c in 'h\u00e9' %}[{{ c }}]{% endfor %}", {"d": {"b": 1, "a": 2}}),
    ("nested loops", "{% for row in m %}{% for v in row %}{{ loop.index }}{{ v }}{% endfor %}|{{ loop.index }} {% endfor %}", {"m": [["a", "b"], ["c"]]}),
    ("range", "{{ range(3)|list }} {{ range(1, 4)|list }} {{ range(10, 0, -3)|list }}", {}),
    ("set and scoping", "{% set x = 1 %}{% for i in [1, 2] %}{% set x = x + i %}{{ x }}{% endfor %} {{ x }} {% set a, b = 1, 2 %}{{ a }}{{ b }}", {}),
    ("namespace", "{% set ns = namespace(total=0, found=false) %}{% for i in [1, 2, 3] %}{% set ns.total = ns.total + i %}{% if i == 2 %}{% set ns.found = true %}{% endif %}{% endfor %}{{ ns.total }} {{ ns.found }}", {}),
    ("set block", "{% set greeting %}Hello {{ name }}!{% endset %}[{{ greeting }}]", {"name": "W"}),
    ("comments", "a{# a comment #}b{# multi\nline #}c", {}),
    ("raw", "{% raw %}{{ not rendered }} {% if %}{% endraw %}", {}),
    ("whitespace control", "a  {{- 'b' -}}  c\n  {%- if true -%}\n  d\n  {%- endif %}\n{#- c -#}  e", {}),
    ("whitespace control no lstrip", "  {% if true %}\n  x\n  {% endif %}\n", {}),
    ("newlines normalised", "a\r\nb{{ 'c\r\nd' }}\re", {}),
    ("chat: trim and lstrip blocks", "<s>\n  {% for m in messages %}\n    {{ m.role }}: {{ m.content }}\n  {% endfor %}\n  {%+ if true %}kept{% endif %}\n{# comment #}\nend", {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]}, "chat"),
    ("chat: lenient undefined", "[{{ missing }}][{{ missing|default('d') }}][{% if missing %}x{% endif %}][{% for x in missing %}x{% endfor %}][{{ missing is defined }}]", {}, "chat"),
    ("chat: break and continue", "{% for m in messages %}{% if m.role == 'system' %}{% continue %}{% endif %}{% if m.content == 'stop' %}{% break %}{% endif %}[{{ loop.index }}:{{ m.content }}]{% endfor %}|{% for i in range(3) %}{% for j in range(3) %}{% if j > i %}{% break %}{% endif %}{{ i }}{{ j }} {% endfor %}{% endfor %}", {"messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "a"}, {"role": "user", "content": "stop"}, {"role": "user", "content": "never"}]}, "chat"),
    ("chat: break and continue skip the loop's no-iteration flag", "{% for x in xs %}{% continue %}{{ x }}{% else %}empty{% endfor %}.{% for x in xs %}{% if x == 2 %}{% break %}{% endif %}{{ x }}{% else %}E{% endfor %}.{% for x in xs %}{% break %}{% else %}E{% endfor %}", {"xs": [1, 2]}, "chat"),
    ("chat: tojson", "{{ d|tojson }} {{ d|tojson(indent=2) }} {{ 'caf\u00e9 <b>'|tojson }}", {"d": {"b": 1, "a": ["\u00e9"]}}, "chat"),
    ("chat: raise_exception not reached", "{% if false %}{{ raise_exception('no') }}{% endif %}ok", {}, "chat"),
    ("chat: llama-style system extraction", "{% if messages[0]['role'] == 'system' %}{% set system_message = messages[0]['content'] | trim %}{% set messages = messages[1:] %}{% else %}{% set system_message = '' %}{% endif %}{{ system_message }}|{% for message in messages %}{{ '<|' + message['role'] + '|>' + message['content'] | trim + '\\n' }}{% endfor %}{% if add_generation_prompt %}<|assistant|>{% endif %}", {"messages": [{"role": "system", "content": " sys "}, {"role": "user", "content": " hi "}], "add_generation_prompt": True}, "chat"),
    ("chat: keep trailing newline", "x\n", {}, "chat"),
    ("chat: whitespace control mixed", "a\n  {%- if true %}\n  b\n  {%+ endif -%}\n  c {#- x #}\n  {# y -#}  d\n\t{% raw -%}  {{ r }}\n  {%- endraw %}\n{% if true +%}\ne{% endif %}", {}, "chat"),
    ("chat: lstrip only at line start", "x {% if true %}y{% endif %}\n   {% if true %}z{% endif %}\n \t{{ 'v' }}", {}, "chat"),
    ("lm_eval: no trim, no lstrip", "a\n  {% if true %}\n  b\n  {% endif %}\n  {# c #}\nd", {}),
    ("nested data and tests", "{{ d.a if d.a is defined }}{{ d.zz if d.zz is defined }}{% if l|length > 1 and l[0] is not none %}{{ l|string|length }}{% endif %}", {"d": {"a": 1}, "l": [1, None]}),
    ("chained filters and methods", "{{ s.split(',')|map('trim')|map('upper')|join('|') }} {{ (s ~ '!')|replace(',', ';')|lower }}", {"s": "a, b ,c"}),
    ("operators precedence", "{{ 1 + 2 * 3 ** 2 }} {{ (1 + 2) * 3 }} {{ -2 ** 2 }} {{ not true or true }} {{ 1 if 0 else 2 if 0 else 3 }} {{ 'a' ~ (1 + 2) }} {{ 'x' ~ 2 * 3 }} {{ 10 - 2 - 3 }} {{ 2 ** 3 ** 2 }}", {}),
]


# Chat templates of popular Hugging Face models (as their tokenizer_config.json has them, in substance),
# rendered as transformers renders them.
GEMMA3_TEMPLATE = json.load(open(os.path.join(HERE, "../../../../shared/data/tokenizer/gemma3/tokenizer_config.json")))["chat_template"] if os.path.exists(os.path.join(HERE, "../../../../shared/data/tokenizer/gemma3/tokenizer_config.json")) else None
CHATML = "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
LLAMA3 = "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}"
MISTRAL = "{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token}}{% else %}{{ raise_exception('Only user and assistant roles are supported!') }}{% endif %}{% endfor %}"
ZEPHYR = "{% for message in messages %}\n{% if message['role'] == 'user' %}\n{{ '<|user|>\n' + message['content'] + eos_token }}\n{% elif message['role'] == 'system' %}\n{{ '<|system|>\n' + message['content'] + eos_token }}\n{% elif message['role'] == 'assistant' %}\n{{ '<|assistant|>\n'  + message['content'] + eos_token }}\n{% endif %}\n{% if loop.last and add_generation_prompt %}\n{{ '<|assistant|>' }}\n{% endif %}\n{% endfor %}"
PHI3 = "{% for message in messages %}{% if message['role'] == 'system' %}{{'<|system|>\n' + message['content'] + '<|end|>\n'}}{% elif message['role'] == 'user' %}{{'<|user|>\n' + message['content'] + '<|end|>\n'}}{% elif message['role'] == 'assistant' %}{{'<|assistant|>\n' + message['content'] + '<|end|>\n'}}{% endif %}{% endfor %}{% if add_generation_prompt %}{{ '<|assistant|>\n' }}{% else %}{{ eos_token }}{% endif %}"
QWEN25 = """{%- if tools %}
    {{- '<|im_start|>system\\n' }}
    {%- if messages[0]['role'] == 'system' %}
        {{- messages[0]['content'] }}
    {%- endif %}
    {{- "\\n\\n# Tools\\n\\n<tools>" }}
    {%- for tool in tools %}
        {{- "\\n" }}
        {{- tool | tojson }}
    {%- endfor %}
    {{- "\\n</tools><|im_end|>\\n" }}
{%- else %}
    {%- if messages[0]['role'] == 'system' %}
        {{- '<|im_start|>system\\n' + messages[0]['content'] + '<|im_end|>\\n' }}
    {%- else %}
        {{- '<|im_start|>system\\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\\n' }}
    {%- endif %}
{%- endif %}
{%- for message in messages %}
    {%- if (message.role == "user") or (message.role == "system" and not loop.first) or (message.role == "assistant" and not message.tool_calls) %}
        {{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>' + '\\n' }}
    {%- elif message.role == "assistant" %}
        {{- '<|im_start|>' + message.role }}
        {%- if message.content %}
            {{- '\\n' + message.content }}
        {%- endif %}
        {{- '<|im_end|>\\n' }}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|im_start|>assistant\\n' }}
{%- endif %}
"""
DEEPSEEK_R1 = "{% if not add_generation_prompt is defined %}{% set add_generation_prompt = false %}{% endif %}{% set ns = namespace(is_first=false, is_tool=false, system_prompt='', is_first_sp=true) %}{%- for message in messages %}{%- if message['role'] == 'system' %}{%- if ns.is_first_sp %}{% set ns.system_prompt = ns.system_prompt + message['content'] %}{% set ns.is_first_sp = false %}{%- else %}{% set ns.system_prompt = ns.system_prompt + '\\n\\n' + message['content'] %}{%- endif %}{%- endif %}{%- endfor %}{{ bos_token }}{{ ns.system_prompt }}{%- for message in messages %}{%- if message['role'] == 'user' %}{{'<\uff5cUser\uff5c>' + message['content']}}{%- endif %}{%- if message['role'] == 'assistant' %}{% set content = message['content'] %}{% if '</think>' in content %}{% set content = content.split('</think>')[-1] %}{% endif %}{{'<\uff5cAssistant\uff5c>' + content + '<\uff5cend\u2581of\u2581sentence\uff5c>'}}{%- endif %}{%- endfor %}{% if add_generation_prompt %}{{'<\uff5cAssistant\uff5c><think>\\n'}}{% endif %}"

CONVERSATIONS = [
    [{"role": "user", "content": "Hello"}],
    [{"role": "system", "content": "You are terse."}, {"role": "user", "content": " Hi there \n"}, {"role": "assistant", "content": "<think>hmm</think> Hello!"}, {"role": "user", "content": "Caf\u00e9? \u65e5\u672c"}],
]


def chat_cases():
    templates = [("chatml", CHATML), ("llama3", LLAMA3), ("mistral", MISTRAL), ("zephyr", ZEPHYR), ("phi3", PHI3),
                 ("qwen2.5", QWEN25), ("deepseek-r1", DEEPSEEK_R1)]
    if GEMMA3_TEMPLATE is not None:
        templates.append(("gemma3", GEMMA3_TEMPLATE))
    cases = []
    for name, template in templates:
        for index, conversation in enumerate(CONVERSATIONS):
            if name == "mistral" and conversation[0]["role"] == "system":
                continue
            for generation_prompt in (True, False):
                context = {"messages": conversation, "add_generation_prompt": generation_prompt, "bos_token": "<s>",
                           "eos_token": "</s>", "tools": None, "documents": None}
                cases.append((f"chat template {name} #{index} add_generation_prompt={generation_prompt}", template,
                              context, "chat"))
    if GEMMA3_TEMPLATE is not None:  # Gemma 3 with image and text parts in a message's content
        cases.append(("chat template gemma3 multimodal content", GEMMA3_TEMPLATE,
                      {"messages": [{"role": "system", "content": [{"type": "text", "text": "Sys"}]},
                                    {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": " What is this? "}]}],
                       "add_generation_prompt": True, "bos_token": "<bos>"}, "chat"))
    return cases


CASES += chat_cases()

ERROR_CASES = [
    ("undefined variable", "Question: {{ question }}\nAnswer: {{ answer }}", {"question": "q"}),
    ("undefined attribute", "line one\n{{ doc.missing }}", {"doc": {"a": 1}}),
    ("index out of range used", "{{ l[5] }}", {"l": [1]}),
    ("type error in +", "a\nb {{ 1 + 'x' }}", {}),
    ("unsupported operand -", "{{ 'a' - 'b' }}", {}),
    ("division by zero", "{{ 1 / 0 }}", {}),
    ("unterminated variable", "text {{ x ", {"x": 1}),
    ("unterminated block", "a\n{% if x %}b", {"x": 1}),
    ("unclosed if", "a\n{% if x %}b{{ x }}", {"x": 1}),
    ("unclosed for", "{% for x in l %}{{ x }}", {"l": [1]}),
    ("unexpected endfor", "{% if x %}{% endfor %}", {"x": 1}),
    ("unknown tag", "{% frobnicate %}", {}),
    ("unterminated string", "{{ 'abc }}", {}),
    ("unterminated comment", "a {# never closed", {}),
    ("bad bracket", "{{ (1, 2] }}", {}),
    ("raise_exception in chat", "{% for m in messages %}{% if m.role != 'user' %}{{ raise_exception('Roles must be user') }}{% endif %}{% endfor %}", {"messages": [{"role": "bot"}]}, "chat"),
    ("index of missing list item", "{{ l.index('z') }}", {"l": ["a"]}),
    ("iterate a number", "{% for x in n %}{% endfor %}", {"n": 3}),
    ("compare str and int", "{{ 'a' < 1 }}", {}),
    ("strict undefined in if", "{% if maybe %}x{% endif %}", {}),
    ("unknown filter", "{{ 'a'|nosuchfilter }}", {}),
    ("missing operand", "{{ 1 + }}", {}),
    ("string method on undefined", "{{ nothing.strip() }}", {}),
    ("int in string", "{{ 1 in 'abc' }}", {}),
    ("concat binds tighter than +", "{{ 'a' ~ 1 + 2 }}", {}),
    ("break without loopcontrols", "{% for x in l %}{% break %}{% endfor %}", {"l": [1]}),
    ("undefined in chat arithmetic", "{{ missing + 1 }}", {}, "chat"),
    ("attribute of undefined in chat", "{{ missing.attr }}", {}, "chat"),
]


def error_line(exc):
    if isinstance(exc, jinja2.TemplateSyntaxError) and exc.lineno:
        return exc.lineno
    line = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename == "<template>":
            line = frame.lineno
    return line


def render(template, context, mode):
    env = ENVIRONMENTS[mode]
    return env.from_string(template).render(**context)


def main():
    cases = []
    for entry in CASES:
        name, template, context = entry[:3]
        mode = entry[3] if len(entry) > 3 else "lm_eval"
        cases.append({"name": name, "options": mode, "template": template, "context": context,
                      "expected": render(template, context, mode)})
    for entry in ERROR_CASES:
        name, template, context = entry[:3]
        mode = entry[3] if len(entry) > 3 else "lm_eval"
        try:
            output = render(template, context, mode)
        except Exception as exc:  # every Jinja error and the Python errors a template raises
            cases.append({"name": name, "options": mode, "template": template, "context": context,
                          "error": f"{type(exc).__name__}: {exc}", "error_line": error_line(exc)})
        else:
            raise SystemExit(f"error case {name!r} rendered {output!r} instead of failing")
    with open(os.path.join(HERE, "cases.json"), "w", encoding="utf-8") as out:
        json.dump({"generated_by": "tests/data/jinja/make_cases.py with jinja2 " + jinja2.__version__,
                   "cases": cases}, out, ensure_ascii=False, indent=1)
        out.write("\n")
    print(f"wrote {len(cases)} cases")


if __name__ == "__main__":
    main()
