"""Each purpose in each of Haven's six languages: headings in the language, right-to-left Arabic in logical
order, a CJK font for Chinese, no missing glyph, the footer on every page, a tagged PDF/UA file whose
metadata hold no personal data."""

from __future__ import annotations

import io

import pytest
from django.utils import translation
from pypdf import PdfReader

from casework.summaries.render import summary_render
from tests.summaries.helpers_render import (  # noqa: F401 (fixtures)
    LANGUAGES,
    LEGAL_NAME_MARKER,
    NOW,
    PURPOSES,
    compiled_catalogues,
    fill_case,
    make_summary,
    normalise,
    page_texts,
    pdftotext,
    translated,
    unit,
    weasyprint_log,
    world,
)

# A heading of each purpose that the catalogues already translate (the lead's translation round adds the
# rest); compared with gettext under the same language, so the test holds before and after that round.
HEADING = {"client": "Referrals", "legal_partner": "Referrals", "protection_review": "Protection"}


def _requester(world, unit, purpose):  # type: ignore[no-untyped-def]  # noqa: F811
    return unit.officer if purpose == "protection_review" else world.caseworker


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("purpose", PURPOSES)
def test_render_each_purpose_in_each_language(world, unit, translated, purpose, language):  # noqa: F811
    case = fill_case(world, contacts=60)
    requester = _requester(world, unit, purpose)
    summary = make_summary(case, requester, purpose=purpose, language=language)

    with weasyprint_log() as records:
        result = summary_render(summary=summary, now=NOW)

    # Nothing went wrong in WeasyPrint: no missing glyph (".notdef"), no ignored CSS, no refused URL.
    assert [record.getMessage() for record in records] == []
    with translation.override(language):
        heading = translation.gettext(HEADING[purpose])
        staff_label = translation.gettext("Staff identifier")
    if language != "en":
        assert staff_label != "Staff identifier"  # the catalogue really translated it
    text = normalise(pdftotext(result.pdf_bytes))
    assert normalise(heading) in text  # logical order, also in Arabic
    assert result.page_count >= 2
    pages = page_texts(result.pdf_bytes)
    assert len(pages) == result.page_count
    for page_number in range(1, result.page_count + 1):
        page_text = normalise(pdftotext(result.pdf_bytes, page=page_number))
        assert case.reference in page_text, page_number
        assert requester.staff_code in page_text, page_number
        assert normalise(staff_label) in page_text, page_number
    reader = PdfReader(io.BytesIO(result.pdf_bytes))
    root = reader.trailer["/Root"]
    assert str(root["/Lang"]).lower() == language.lower()
    assert root["/MarkInfo"]["/Marked"] is True or bool(root["/MarkInfo"]["/Marked"])
    assert "/StructTreeRoot" in root
    assert result.protection_level == "confidential"
    assert result.grant_ids == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_metadata_hold_no_personal_data(world, translated, language):  # noqa: F811
    case = fill_case(world, contacts=1)
    summary = make_summary(case, world.caseworker, purpose="legal_partner", language=language)

    result = summary_render(summary=summary, now=NOW)

    reader = PdfReader(io.BytesIO(result.pdf_bytes))
    with translation.override(language):
        expected_title = translation.gettext("Case summary %(reference)s") % {"reference": case.reference}
    assert reader.metadata.title == expected_title
    assert case.reference in reader.metadata.title
    assert reader.metadata.author == "Haven"
    xmp = reader.trailer["/Root"]["/Metadata"].get_object().get_data()
    everything = str(dict(reader.metadata)).encode() + xmp
    for value in (LEGAL_NAME_MARKER, case.person.pseudonym, "Mari", world.caseworker.username):
        assert value.encode() not in everything


def test_arabic_is_right_to_left_with_shaped_text_in_logical_order(world, translated):  # noqa: F811
    case = fill_case(world, contacts=2, note="ملاحظة الاتصال")
    summary = make_summary(case, world.caseworker, purpose="legal_partner", language="ar")

    with weasyprint_log() as records:
        result = summary_render(summary=summary, now=NOW)

    assert [record.getMessage() for record in records] == []
    text = normalise(pdftotext(result.pdf_bytes))
    assert "الإحالات" in text  # "Referrals", as the catalogue has it, read in logical order
    assert normalise("معرّف الموظف") in text  # "Staff identifier"
    assert "ملاحظة الاتصال" in text  # Arabic case data, shaped and extracted in logical order
    fonts = _font_names(result.pdf_bytes)
    assert any("Naskh-Arabic" in name for name in fonts), fonts


def test_chinese_uses_a_cjk_font(world, translated):  # noqa: F811
    case = fill_case(world, contacts=2, note="联系记录")
    summary = make_summary(case, world.caseworker, purpose="client", language="zh-hans")

    with weasyprint_log() as records:
        result = summary_render(summary=summary, now=NOW)

    assert [record.getMessage() for record in records] == []
    assert "转介" in pdftotext(result.pdf_bytes)  # "Referrals"
    assert "联系记录" in pdftotext(result.pdf_bytes)
    fonts = _font_names(result.pdf_bytes)
    assert any("Noto-Sans-CJK-SC" in name or "NotoSansCJK" in name for name in fonts), fonts


def test_unknown_language_is_refused(world):  # noqa: F811
    case = fill_case(world, contacts=0)
    summary = make_summary(case, world.caseworker, language="de")

    with pytest.raises(ValueError):
        summary_render(summary=summary, now=NOW)


def _font_names(pdf: bytes) -> set[str]:
    reader = PdfReader(io.BytesIO(pdf))
    names: set[str] = set()
    for page in reader.pages:
        fonts = page["/Resources"].get("/Font", {})
        for font in fonts.values():
            names.add(str(font.get_object()["/BaseFont"]))
    return names
