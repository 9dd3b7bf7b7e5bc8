"""VietnameseTokenizer: exact offsets, entity-safe boundaries, canonical lemmas."""
from __future__ import annotations

import unicodedata
from typing import List, Tuple

import pytest
from rasa.shared.nlu.training_data.message import Message

from nlu.tokenizer import VietnameseTokenizer, align_words, atoms


@pytest.fixture(scope="module")
def tokenizer() -> VietnameseTokenizer:
    return VietnameseTokenizer(VietnameseTokenizer.get_default_config())


def tokens_of(tokenizer: VietnameseTokenizer, text: str, entities=None) -> List[Tuple[str, int, int, str]]:
    data = {"text": text}
    if entities is not None:
        data["entities"] = entities
    toks = tokenizer.tokenize(Message(data=data), "text")
    for tok in toks:
        assert text[tok.start:tok.end] == tok.text, (tok.text, tok.start, tok.end)
        assert tok.text.strip() == tok.text and tok.text
    starts = [t.start for t in toks]
    assert starts == sorted(starts)
    assert all(a.end <= b.start for a, b in zip(toks, toks[1:])), "tokens overlap"
    return [(t.text, t.start, t.end, t.lemma) for t in toks]


def texts(result) -> List[str]:
    return [r[0] for r in result]


def test_multisyllable_words_and_lemmas(tokenizer):
    text = "Xin hỏi thủ tục đăng ký khai sinh hết bao nhiêu tiền?"
    result = tokens_of(tokenizer, text)
    lemmas = {r[0]: r[3] for r in result}
    assert "bao nhiêu" in lemmas and lemmas["bao nhiêu"] == "bao nhieu"
    assert "thủ tục" in lemmas and lemmas["thủ tục"] == "thu tuc"
    assert "?" not in texts(result)
    bao = next(r for r in result if r[0] == "bao nhiêu")
    assert (bao[1], bao[2]) == (text.index("bao nhiêu"), text.index("bao nhiêu") + len("bao nhiêu"))


def test_without_diacritics_and_shorthand(tokenizer):
    result = tokens_of(tokenizer, "lam cccd mat bn tien vay ad, ko biet nop o dau")
    lemmas = [r[3] for r in result]
    assert "can cuoc cong dan" in lemmas
    assert "bao nhieu" in lemmas
    assert "khong" in lemmas
    assert "admin" in lemmas
    assert "," not in texts(result)


def test_same_lemma_with_and_without_diacritics(tokenizer):
    marked = [r[3] for r in tokens_of(tokenizer, "Cấp lại căn cước mất bao nhiêu ngày")]
    bare = [r[3] for r in tokens_of(tokenizer, "cap lai can cuoc mat bao nhieu ngay")]
    assert " ".join(marked).split() == " ".join(bare).split()


def test_codes_phones_ids_are_single_tokens(tokenizer):
    text = "hồ sơ 000.00.11.H26-241115-0007, lịch LH-7K2Q9M, gọi 0912 345 678 hoặc +84 912 345 678, cccd 001 203 004 567"
    result = tokens_of(tokenizer, text)
    got = texts(result)
    for piece in ["000.00.11.H26-241115-0007", "LH-7K2Q9M", "0912 345 678", "+84 912 345 678", "001 203 004 567"]:
        assert piece in got
    lemma = {r[0]: r[3] for r in result}
    assert lemma["0912 345 678"] == "__phone__"
    assert lemma["LH-7K2Q9M"] == "__booking_code__"


def test_loose_dossier_code_is_one_token(tokenizer):
    got = texts(tokens_of(tokenizer, "ma ho so cua em la 000 00 11 h26 241115 0007 a"))
    assert "000 00 11 h26 241115 0007" in got


def test_code_glued_to_next_word_is_split(tokenizer):
    # underthesea returns "LH-7K2Q9M đổi" as one word: the token must stop at the code
    got = texts(tokens_of(tokenizer, "mã LH-7K2Q9M đổi sang thứ 3 được không"))
    assert "LH-7K2Q9M" in got and "đổi" in got


def test_phone_glued_to_shorthand(tokenizer):
    assert texts(tokens_of(tokenizer, "sdt0987654321 nhe")) == ["sdt", "0987654321", "nhe"]


def test_date_time_boundaries_not_crossed(tokenizer):
    # underthesea joins "sáng mai"; the annotation convention splits it into time + date
    text = "Sáng mai tầm 9h30 em lên phường nộp được không"
    result = tokens_of(tokenizer, text)
    assert texts(result)[:2] == ["Sáng", "mai"]
    assert "9h30" in texts(result)


def test_training_entity_boundaries_respected(tokenizer):
    text = "em ở Hoà Bình muốn hỏi"
    start = text.index("Bình")
    got = texts(tokens_of(tokenizer, text, [{"start": start, "end": start + 4, "entity": "x", "value": "Bình"}]))
    assert "Bình" in got


def test_underthesea_normalised_characters(tokenizer):
    # underthesea rewrites old-style tone placement ("hoà" -> "hòa", "thuỷ" -> "thủy")
    text = "phường Yên Hoà và hoà giải, thuỷ lợi"
    got = texts(tokens_of(tokenizer, text))
    assert "thuỷ lợi" in got or ("thuỷ" in got and "lợi" in got)
    assert any("Hoà" in g for g in got)


def test_decomposed_input(tokenizer):
    text = unicodedata.normalize("NFD", "Thủ tục đăng ký hộ kinh doanh ở đâu")
    result = tokens_of(tokenizer, text)
    assert len(result) >= 5
    assert [r[3] for r in result][0] == "thu tuc"
    assert all(unicodedata.normalize("NFC", r[0]) for r in result)


def test_full_width_digits(tokenizer):
    text = "gọi ０９１２３４５６７８ ngày １５/１２"
    result = tokens_of(tokenizer, text)
    assert "０９１２３４５６７８" in texts(result)
    lemma = {r[0]: r[3] for r in result}
    assert lemma["１５/１２"] == "15 12"


def test_emoji(tokenizer):
    text = "cảm ơn ad 👍🏻😀 nhiều 👨‍👩‍👧"
    got = texts(tokens_of(tokenizer, text))
    assert got[:3] == ["cảm ơn", "ad", "👍🏻"] or got[:4] == ["cảm", "ơn", "ad", "👍🏻"]
    assert "😀" in got and "👨‍👩‍👧" in got


@pytest.mark.parametrize("text", ["😀", "😀😀😀", "👍🏻"])
def test_only_emoji(tokenizer, text):
    result = tokens_of(tokenizer, text)
    assert "".join(texts(result)) == text


@pytest.mark.parametrize("text", ["", "   ", "...!!!", "???", "\n\t", "- / ,"])
def test_empty_and_punctuation_only(tokenizer, text):
    assert tokens_of(tokenizer, text) == []


def test_mixed_scripts_and_zero_width(tokenizer):
    got = texts(tokens_of(tokenizer, "Привет 你好 xin chào em\u200bbạn"))
    assert "Привет" in got and "你好" in got and "bạn" in got
    assert not any("\u200b" in g for g in got)


def test_numbers_and_prices(tokenizer):
    got = texts(tokens_of(tokenizer, "lệ phí 50.000đ, khoảng 2,5 triệu; 1-2 ngày"))
    assert "50.000đ" in got and "2,5" in got and "1-2" in got


def test_long_text(tokenizer):
    unit = "Cho em hỏi làm căn cước ở phường Yên Hoà hết bn tiền, sđt 0912 345 678 😀. "
    text = (unit * 200)[:10000]
    result = tokens_of(tokenizer, text)
    assert len(result) > 1000
    assert sum(1 for r in result if r[3] == "__phone__") >= 100


def test_long_single_word(tokenizer):
    text = "a" * 10000
    assert tokens_of(tokenizer, text) == [(text, 0, 10000, text)]


def test_placeholder_lemma_can_be_disabled():
    config = {**VietnameseTokenizer.get_default_config(), "pattern_placeholder_lemma": False}
    tok = VietnameseTokenizer(config)
    result = tokens_of(tok, "lh-7k2q9m")
    assert result[0][3] == "lh 7k2q9m"


def test_without_underthesea():
    config = {**VietnameseTokenizer.get_default_config(), "use_underthesea": False}
    tok = VietnameseTokenizer(config)
    assert texts(tokens_of(tok, "bao nhiêu tiền")) == ["bao", "nhiêu", "tiền"]


def test_underthesea_failure_falls_back(tokenizer, monkeypatch):
    import nlu.tokenizer as module

    def boom(text):
        raise RuntimeError("model missing")

    monkeypatch.setattr("underthesea.word_tokenize", boom)
    assert texts(tokens_of(tokenizer, "bao nhiêu tiền")) == ["bao", "nhiêu", "tiền"]
    monkeypatch.setattr(module, "token_spans", lambda *a, **k: 1 / 0)
    assert texts(tokens_of(tokenizer, "bao nhiêu tiền")) == ["bao", "nhiêu", "tiền"]


def test_align_words_skips_unalignable():
    text = "hoà bình"
    assert align_words(text, ["hòa", "###", "bình"]) == [(0, 3), (4, 8)]


def test_atoms_kinds():
    kinds = [(a[2]) for a in atoms("ok 😀 .")]
    assert kinds == ["w", "s"]


def test_process_sets_tokens_and_intent_split():
    config = {**VietnameseTokenizer.get_default_config(), "intent_tokenization_flag": True}
    tok = VietnameseTokenizer(config)
    msg = Message(data={"text": "sáng mai em qua", "intent": "book_appointment"})
    tok.process([msg])
    assert [t.text for t in msg.get("text_tokens")] == ["sáng", "mai", "em", "qua"]
    assert [t.text for t in msg.get("intent_tokens")] == ["book", "appointment"]
