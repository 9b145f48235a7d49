"""The codes the partner directory accepts: ISO 639 languages and ISO 3166-1 countries.

Languages are ISO 639-1 two-letter codes plus the codes Django knows (which add a few three-letter ISO 639
codes and regional variants such as "pt-br"). Countries are ISO 3166-1 alpha-2. A jurisdiction is a country
code, optionally with an ISO 3166-2 subdivision ("GB-SCT", "DE-BY").
"""

from __future__ import annotations

import re
from functools import cache

from django.conf import global_settings


def _codes(text: str) -> frozenset[str]:
    return frozenset(text.split())


ISO_639_1 = _codes(
    """
    aa ab ae af ak am an ar as av ay az ba be bg bi bm bn bo br bs ca ce ch co cr cs cu cv cy da de dv dz ee
    el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht hu hy hz ia id ie ig ii ik io
    is it iu ja jv ka kg ki kj kk kl km kn ko kr ks ku kv kw ky la lb lg li ln lo lt lu lv mg mh mi mk ml mn
    mr ms mt my na nb nd ne ng nl nn no nr nv ny oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se
    sg si sk sl sm sn so sq sr ss st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve vi vo
    wa wo xh yi yo za zh zu
    """
)

ISO_3166_1_ALPHA_2 = _codes(
    """
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW
    BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI
    FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN
    IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME
    MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF
    PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV
    SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE
    YT ZA ZM ZW
    """
)

_SUBDIVISION_RE = re.compile(r"^[A-Z0-9]{1,3}$")


@cache
def language_codes() -> frozenset[str]:
    """Return every language code the directory accepts (lower case)."""
    return ISO_639_1 | frozenset(code.lower() for code, _name in global_settings.LANGUAGES)


def normalise_language(code: str) -> str:
    return code.strip().lower().replace("_", "-")


def normalise_country(code: str) -> str:
    return code.strip().upper()


def is_language_code(code: str) -> bool:
    return normalise_language(code) in language_codes()


def is_country_code(code: str) -> bool:
    return normalise_country(code) in ISO_3166_1_ALPHA_2


def is_jurisdiction_code(code: str) -> bool:
    """A country ("GB") or a country with an ISO 3166-2 subdivision ("GB-SCT")."""
    country, dash, subdivision = normalise_country(code).partition("-")
    if country not in ISO_3166_1_ALPHA_2:
        return False
    return not dash or bool(_SUBDIVISION_RE.match(subdivision))


def language_matches(service_code: str, wanted: str) -> bool:
    """Match languages: "es" finds "es" and "es-ar"; "es-ar" finds "es-ar" and plain "es"."""
    service_code, wanted = normalise_language(service_code), normalise_language(wanted)
    return (
        service_code == wanted
        or service_code.startswith(wanted + "-")
        or wanted.startswith(service_code + "-")
    )


def jurisdiction_matches(service_code: str, wanted: str) -> bool:
    """Match jurisdictions: "GB" finds "GB" and its parts; "GB-SCT" finds "GB-SCT" and all of "GB"."""
    service_code, wanted = normalise_country(service_code), normalise_country(wanted)
    return (
        service_code == wanted
        or service_code.startswith(wanted + "-")
        or wanted.startswith(service_code + "-")
    )
