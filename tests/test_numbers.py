"""Property tests for French number parsing."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from ingest.numbers import display_number, find_quantities, format_value, group_thousands, parse_number

SEPARATORS = st.sampled_from([" ", "\u00a0", "\u202f"])


@given(st.integers(min_value=0, max_value=10**9), SEPARATORS)
def test_grouped_thousands_parse_whole(n: int, sep: str) -> None:
    written = group_thousands(str(n)).replace(" ", sep)
    qs = find_quantities(f"soit {written} entrées en CEP")
    assert [q.value for q in qs] == [float(n)]
    assert qs[0].unit == "count"
    assert parse_number(written) == n


@given(st.integers(min_value=0, max_value=999), st.integers(min_value=0, max_value=99), st.sampled_from([",", "."]))
def test_decimal_percent(whole: int, dec: int, mark: str) -> None:
    text = f"avec {whole}{mark}{dec:02d} % des bénéficiaires"
    (q,) = find_quantities(text)
    assert q.unit == "percent"
    assert abs(q.value - (whole + dec / 100)) < 1e-9
    assert q.display == f"{group_thousands(str(whole))},{dec:02d} %"


@given(st.integers(min_value=1, max_value=9999), SEPARATORS)
def test_display_round_trips(n: int, sep: str) -> None:
    shown = display_number(group_thousands(str(n)).replace(" ", sep))
    assert parse_number(shown) == n


def test_units() -> None:
    cases = {
        "2,66 jours": (2.66, "days"),
        "10 min": (10, "minutes"),
        "2h": (2, "hours"),
        "72 700 km²": (72700, "km2"),
        "+ 43 600": (43600, "count"),
        "450 M€": (450, "meur"),
        "8,5/10": (8.5, "score"),
        "1 cadre sur 3": (1, "ratio"),
        "9.76 %": (9.76, "percent"),
        "175\u202f837": (175837, "count"),
    }
    for text, (value, unit) in cases.items():
        q = find_quantities(text)[0]
        assert (q.value, q.unit) == (value, unit), text


def test_ordinals_and_bullets() -> None:
    assert find_quantities("le 3e trimestre") == []
    assert [q.value for q in find_quantities("1er niveau")] == []
    assert [q.value for q in find_quantities("- 94% des bénéficiaires")] == [94.0]
    assert [q.value for q in find_quantities("une baisse : - 0,7 point")] == [-0.7]


def test_one_dotted_group_in_a_count_is_thousands() -> None:
    """'148.849 actifs' is 148 849 people; '9.72 %' and '2.5 points' keep their decimals."""
    assert [(q.value, q.display) for q in find_quantities("148.849 actifs occupés")] == [(148849.0, "148 849")]
    assert [q.value for q in find_quantities("9.72 % des entrées, soit 2.5 points")] == [9.72, 2.5]
    assert format_value(2.125) == "2,125"  # a computed value is never read as thousands


def test_digits_that_name_are_not_quantities() -> None:
    """Codes, dates, times and phone numbers name something: no fact is made of them."""
    for text in (
        "la crise du Covid-19",
        "Tél. : 05 61 22 33 44",
        "05.61.22.33.44",
        "le 13/02/2019 à 09:00",
        "07.04.22",
        "ouvert jusqu'à 12 h 30",
        "le 12h30",
    ):
        assert find_quantities(text) == [], text
    assert [q.value for q in find_quantities("de 16-25 ans, soit -12 % et 0,7 % par an")] == [16, 25, -12, 0.7]


def test_dates_are_found_with_their_day_month_and_year() -> None:
    from ingest.numbers import find_dates

    def read(text: str) -> list[tuple[int, int | None, int | None]]:
        return [(d.year, d.month, d.day) for d in find_dates(text)]

    assert read("Créée le 1er janvier 2020, l'association") == [(2020, 1, 1)]
    assert read("la loi du 5 mars 2014 et le décret n° 2019-1439 du 23 décembre 2019") == [(2014, 3, 5), (2019, 12, 23)]
    assert read("version du 15/09/21, entrée en vigueur le 01/01/2020") == [(2021, 9, 15), (2020, 1, 1)]
    assert read("En mars 2021, afin de") == [(2021, 3, None)]
    assert read("depuis 2017 ; en 2021-2022, 3 500 entrées") == [(2017, None, None)]  # a range is no date
    assert read("12 345 entrées, 45 jours") == []
