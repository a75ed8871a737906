"""Synthetic service catalogue: the need taxonomy and services with names, text and eligibility rules.

The generative model is documented in :mod:`training.generate`. Services are few (thousands), so
text is composed per service in plain Python; everything about residents is vectorised elsewhere.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .generate_population import CITY_NAME, KM_PER_DEG_LAT, DistrictSet

#: (code, name, parent) of the need taxonomy; '' parent for a top-level need.
TAXONOMY = (
    ("housing", "Housing", ""),
    ("housing/shelter", "Emergency shelter", "housing"),
    ("housing/rent", "Rent assistance", "housing"),
    ("housing/repairs", "Home repairs", "housing"),
    ("food", "Food", ""),
    ("food/pantry", "Food pantry", "food"),
    ("food/meals", "Free meals", "food"),
    ("food/benefits", "Food benefits (SNAP/WIC)", "food"),
    ("jobs", "Jobs and employment", ""),
    ("jobs/training", "Job training", "jobs"),
    ("jobs/placement", "Job placement", "jobs"),
    ("childcare", "Childcare", ""),
    ("childcare/daycare", "Daycare", "childcare"),
    ("childcare/afterschool", "After-school programs", "childcare"),
    ("eldercare", "Eldercare", ""),
    ("eldercare/homecare", "Home care for seniors", "eldercare"),
    ("eldercare/daycenter", "Senior day centers", "eldercare"),
    ("health", "Health", ""),
    ("health/clinic", "Primary care clinic", "health"),
    ("health/mental", "Mental health", "health"),
    ("health/dental", "Dental care", "health"),
    ("disability", "Disability services", ""),
    ("disability/support", "Disability support", "disability"),
    ("disability/equipment", "Assistive equipment", "disability"),
    ("legal", "Legal help", ""),
    ("legal/aid", "Civil legal aid", "legal"),
    ("legal/immigration", "Immigration legal services", "legal"),
    ("education", "Education", ""),
    ("education/language", "Language classes", "education"),
    ("education/adult", "Adult education and GED", "education"),
    ("transport", "Transportation", ""),
    ("transport/rides", "Ride programs", "transport"),
    ("transport/fares", "Reduced transit fares", "transport"),
    ("utilities", "Utilities", ""),
    ("utilities/bills", "Utility bill assistance", "utilities"),
    ("utilities/weatherization", "Weatherization", "utilities"),
)

#: Share of services whose first category falls under each top-level need.
SUPPLY = {
    "health": .14, "food": .13, "housing": .12, "education": .09, "jobs": .08, "eldercare": .08,
    "childcare": .07, "legal": .07, "transport": .06, "utilities": .06, "disability": .05,
}
#: Needs a service's second category is drawn from (besides its own top-level need).
RELATED = {
    "food": ("utilities", "health", "housing"), "housing": ("utilities", "legal", "food"),
    "jobs": ("education", "transport", "childcare"), "childcare": ("education", "food"),
    "eldercare": ("health", "transport", "food"), "health": ("disability", "eldercare"),
    "disability": ("health", "transport", "jobs"), "legal": ("housing", "jobs"),
    "education": ("jobs", "childcare"), "transport": ("health", "jobs"),
    "utilities": ("housing", "food"),
}
#: Share of means-tested services (``max_income`` set) per top-level need.
MEANS_TESTED = {
    "food": .6, "housing": .7, "utilities": .8, "legal": .6, "health": .25, "transport": .3,
    "jobs": .1, "childcare": .5, "eldercare": .3, "education": .1, "disability": .2,
}
INCOME_LIMITS = (1200, 1500, 1800, 2000, 2500, 3000, 3500)
STATUS_SHARES = (("active", .90), ("temporarily closed", .04), ("inactive", .04), ("defunct", .02))
DELIVERY = ("in_person", "phone", "online")
DELIVERY_SHARES = {"default": (.72, .16, .12), "legal": (.5, .35, .15), "education": (.55, .05, .40),
                   "jobs": (.6, .1, .3), "health": (.7, .2, .1)}
COST = (("free", .75), ("sliding_scale", .15), ("fee", .10))

NAMES = {
    "housing": ["Housing Resource Center", "Housing Help Desk"],
    "housing/shelter": ["Emergency Shelter", "Family Shelter", "Men's Shelter", "Women's Shelter", "Winter Shelter"],
    "housing/rent": ["Rental Assistance Program", "Eviction Prevention Fund", "Rent Relief Program"],
    "housing/repairs": ["Home Repair Program", "Safe at Home Repairs", "Housing Rehab Program"],
    "food": ["Food Access Network", "Community Food Hub"],
    "food/pantry": ["Food Pantry", "Community Food Pantry", "Food Cupboard", "Emergency Food Closet"],
    "food/meals": ["Community Kitchen", "Soup Kitchen", "Hot Meals Program", "Senior Meals Program"],
    "food/benefits": ["SNAP Enrollment Help", "WIC Clinic", "Food Benefits Outreach"],
    "jobs": ["Career Center", "Workforce Center"],
    "jobs/training": ["Job Training Academy", "Skills Training Program", "Construction Pre-Apprenticeship"],
    "jobs/placement": ["Job Placement Services", "Employment Connection", "Hiring Hub"],
    "childcare": ["Child Care Resource Center", "Family Support Center"],
    "childcare/daycare": ["Early Learning Center", "Child Development Center", "Head Start Program"],
    "childcare/afterschool": ["After-School Program", "Youth Enrichment Program", "Homework Club"],
    "eldercare": ["Senior Services Center", "Aging Resource Center"],
    "eldercare/homecare": ["In-Home Care for Seniors", "Senior Companion Program", "Home Care Services"],
    "eldercare/daycenter": ["Senior Center", "Adult Day Center", "Senior Day Program"],
    "health": ["Community Health Center", "Health Access Program"],
    "health/clinic": ["Community Clinic", "Family Health Clinic", "Free Clinic", "Neighborhood Health Center"],
    "health/mental": ["Counseling Center", "Mental Health Clinic", "Behavioral Health Services"],
    "health/dental": ["Dental Clinic", "Community Dental Center"],
    "disability": ["Disability Resource Center", "Independent Living Center"],
    "disability/support": ["Disability Support Services", "Supported Living Program"],
    "disability/equipment": ["Assistive Technology Loan Closet", "Medical Equipment Bank"],
    "legal": ["Legal Help Center", "Legal Clinic"],
    "legal/aid": ["Legal Aid Office", "Tenant Legal Clinic", "Family Law Clinic"],
    "legal/immigration": ["Immigration Legal Services", "Citizenship Clinic"],
    "education": ["Learning Center", "Community Education Program"],
    "education/language": ["ESL Classes", "English Language Program", "English Conversation Circle"],
    "education/adult": ["GED Program", "Adult Learning Center", "Adult Literacy Program"],
    "transport": ["Mobility Services", "Transportation Help"],
    "transport/rides": ["Senior Ride Program", "Medical Transportation", "Volunteer Driver Program"],
    "transport/fares": ["Reduced Fare Program", "Transit Pass Assistance"],
    "utilities": ["Energy Assistance Office", "Utility Help Desk"],
    "utilities/bills": ["Energy Assistance Program", "Utility Bill Relief", "Water Bill Assistance"],
    "utilities/weatherization": ["Weatherization Program", "Home Energy Upgrade"],
}

PHRASES = {
    "housing": ["Helps residents find and keep safe, affordable housing."],
    "housing/shelter": ["Provides emergency overnight shelter, showers and case management for people experiencing homelessness.",
                        "Offers short-term shelter beds and help moving into permanent housing."],
    "housing/rent": ["Provides one-time rental assistance to prevent eviction.",
                     "Helps tenants behind on rent with back payments and landlord mediation."],
    "housing/repairs": ["Repairs roofs, heating systems and accessibility features for homeowners.",
                        "Makes critical home repairs so older homeowners can stay safely in their homes."],
    "food": ["Connects households with food resources across the neighborhood."],
    "food/pantry": ["Distributes free groceries, fresh produce and canned goods every week.",
                    "Offers emergency food boxes for families in need."],
    "food/meals": ["Serves free hot meals in a welcoming dining room.",
                   "Delivers nutritious meals to people who cannot cook for themselves."],
    "food/benefits": ["Helps families apply for SNAP and WIC food benefits.",
                      "Screens households for food assistance programs and helps with renewals."],
    "jobs": ["Supports job seekers at every step of their career."],
    "jobs/training": ["Offers free job training with industry certifications.",
                      "Runs hands-on training programs in construction, healthcare and IT."],
    "jobs/placement": ["Matches job seekers with local employers and helps with resumes and interviews.",
                       "Provides job placement, coaching and follow-up after hire."],
    "childcare": ["Helps parents find and pay for quality child care."],
    "childcare/daycare": ["Provides full-day early learning and child care for infants and preschoolers.",
                          "Offers subsidized daycare slots for working parents."],
    "childcare/afterschool": ["Runs after-school tutoring, sports and arts for school-age children.",
                              "Keeps children safe and learning after school until parents finish work."],
    "eldercare": ["Supports older adults to live independently."],
    "eldercare/homecare": ["Sends trained aides to help seniors with personal care and household tasks at home.",
                           "Provides in-home support and companionship for older adults."],
    "eldercare/daycenter": ["Offers daytime activities, meals and social connection for seniors.",
                            "Runs a supervised adult day program with health monitoring."],
    "health": ["Improves access to health care for uninsured and underinsured residents."],
    "health/clinic": ["Provides primary care, check-ups and vaccinations on a sliding fee scale.",
                      "Offers walk-in medical care and help enrolling in health insurance."],
    "health/mental": ["Provides counseling and therapy for depression, anxiety and trauma.",
                      "Offers mental health assessments, therapy and crisis support."],
    "health/dental": ["Provides dental exams, cleanings and fillings at low cost.",
                      "Offers emergency and preventive dental care."],
    "disability": ["Supports people with disabilities to live independently."],
    "disability/support": ["Provides personal assistance, advocacy and independent living skills training.",
                           "Helps people with disabilities access benefits and community services."],
    "disability/equipment": ["Lends wheelchairs, walkers and other assistive devices free of charge.",
                             "Provides assistive technology evaluations and equipment loans."],
    "legal": ["Offers free legal information and referrals."],
    "legal/aid": ["Provides free civil legal representation in housing, family and consumer cases.",
                  "Helps tenants facing eviction understand their rights and go to court."],
    "legal/immigration": ["Helps immigrants with citizenship applications, green cards and DACA renewals.",
                          "Provides low-cost immigration legal advice and representation."],
    "education": ["Offers learning opportunities for adults of all backgrounds."],
    "education/language": ["Teaches English as a second language at beginner to advanced levels.",
                           "Offers English conversation practice and citizenship preparation."],
    "education/adult": ["Prepares adults for the GED and offers basic reading and math classes.",
                         "Provides adult literacy tutoring and high school equivalency classes."],
    "transport": ["Helps residents get where they need to go."],
    "transport/rides": ["Provides free rides to medical appointments and grocery stores.",
                        "Volunteer drivers take older adults and people with disabilities to appointments."],
    "transport/fares": ["Helps eligible residents get reduced-fare transit passes.",
                        "Provides bus passes to people looking for work or attending treatment."],
    "utilities": ["Helps households keep the lights and heat on."],
    "utilities/bills": ["Pays part of overdue electric, gas and water bills to prevent shut-off.",
                        "Helps households apply for energy assistance grants."],
    "utilities/weatherization": ["Installs insulation and energy-saving upgrades at no cost to lower bills.",
                                 "Seals drafts and repairs furnaces to cut energy costs."],
}
#: A Chinese / Spanish sentence per top-level need, added for services in zh / es speaking areas.
PHRASES_ZH = {
    "housing": "提供住房援助和紧急住所。", "food": "提供免费食品和营养支持。", "jobs": "提供就业培训和工作安置服务。",
    "childcare": "为家庭提供儿童照顾服务。", "eldercare": "为老年人提供照顾和支持。", "health": "提供医疗和健康服务。",
    "disability": "为残疾人士提供支持服务。", "legal": "提供免费法律咨询。", "education": "提供英语课程和成人教育。",
    "transport": "提供交通协助。", "utilities": "帮助支付水电费。",
}
PHRASES_ES = {
    "housing": "Ofrece ayuda con la vivienda y albergue de emergencia.", "food": "Ofrece alimentos gratuitos.",
    "jobs": "Ofrece capacitación y búsqueda de empleo.", "childcare": "Ofrece cuidado infantil para familias.",
    "eldercare": "Apoya a personas mayores.", "health": "Ofrece servicios de salud.",
    "disability": "Apoya a personas con discapacidad.", "legal": "Ofrece asesoría legal gratuita.",
    "education": "Ofrece clases de inglés y educación para adultos.", "transport": "Ofrece ayuda con el transporte.",
    "utilities": "Ayuda a pagar las facturas de servicios públicos.",
}
DELIVERY_PHRASES = {
    "in_person": ["Walk-ins welcome on weekdays.", "Call ahead to schedule an appointment.",
                  "Visit our office during business hours."],
    "phone": ["Services are provided by phone.", "Call our helpline to get started."],
    "online": ["Apply and attend online.", "Services are available online and by video call."],
}
LANGUAGE_NAMES = {"en": "English", "es": "Spanish", "zh": "Chinese", "ko": "Korean", "fr": "French",
                  "ar": "Arabic", "ru": "Russian"}
ORG_PATTERNS = (
    "{area} Community Action Council", "{area} Neighborhood Alliance", "{saint} Outreach",
    "{surname} Family Foundation", "{area} Community Center", "{city} {cause} Coalition",
    "{area} Resource Network", "{area} Mutual Aid Society", "{surname} House", "Friends of {area}",
)
SAINTS = ("St. Mark's", "St. Ann's", "St. Vincent de Paul", "Grace Church", "Bethel AME", "Mount Zion",
          "Temple Beth Shalom", "Islamic Center", "First Baptist", "Holy Cross")
SURNAMES = ("Douglass", "Tubman", "Hopkins", "Mitchell", "Carroll", "Calvert", "Parks", "Marshall",
            "Rivera", "Chen", "Kim", "Novak", "Haddad", "Okafor", "Dubois", "Petrov")
CAUSES = ("Hunger", "Housing", "Health", "Literacy", "Senior", "Youth", "Immigrant", "Family")


def taxonomy_frame(codes=None) -> pd.DataFrame:
    """The taxonomy as a (code, name, parent) frame; only ``codes`` and their ancestors when given."""
    frame = pd.DataFrame(TAXONOMY, columns=["code", "name", "parent"])
    if codes is not None:
        keep = set()
        for code in codes:
            while code:
                keep.add(code)
                code = code.rsplit("/", 1)[0] if "/" in code else ""
        frame = frame[frame["code"].isin(keep)]
    return frame.reset_index(drop=True)


def _children() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {code: [] for code, _, parent in TAXONOMY if not parent}
    for code, _, parent in TAXONOMY:
        if parent:
            out[parent].append(code)
    return out


def _pick(rng: np.random.Generator, options):
    return options[int(rng.integers(len(options)))]


def _choice(rng: np.random.Generator, pairs):
    labels = [k for k, _ in pairs]
    p = np.array([v for _, v in pairs], dtype=float)
    return labels[int(rng.choice(len(labels), p=p / p.sum()))]


def _organizations(n_orgs: int, districts: DistrictSet, rng: np.random.Generator):
    """(names, home district index, size weight) of the organisations that run the services."""
    ds = districts.districts
    # Poorer districts host more agencies.
    w = np.array([d.weight / np.sqrt(d.income) for d in ds])
    home = rng.choice(len(ds), size=n_orgs, p=w / w.sum())
    size = rng.lognormal(0.0, 0.9, size=n_orgs)
    names: list[str] = []
    seen: set[str] = set()
    for i in range(n_orgs):
        name = ""
        for _ in range(6):
            name = _pick(rng, ORG_PATTERNS).format(
                area=ds[home[i]].name, saint=_pick(rng, SAINTS), surname=_pick(rng, SURNAMES),
                city=CITY_NAME, cause=_pick(rng, CAUSES))
            if name not in seen:
                break
        if name in seen:
            name = f"{name} ({ds[home[i]].code})"
        k = 2
        base = name
        while name in seen:
            name = f"{base} {k}"
            k += 1
        seen.add(name)
        names.append(name)
    return names, home, size


#: Streets that tell apart two sites of a programme with the same name, as real directories do.
STREETS = ("Greenmount Avenue", "North Avenue", "Harford Road", "Eastern Avenue", "Pennsylvania Avenue",
           "York Road", "Belair Road", "Charles Street", "Park Heights Avenue", "Edmondson Avenue",
           "Washington Boulevard", "Frederick Avenue", "Light Street", "Fort Avenue", "Monument Street",
           "Fulton Avenue", "Reisterstown Road", "Wilkens Avenue", "Liberty Heights Avenue", "Broadway")


def _unique_name(area: str, programme: str, category: str, i: int, seen: set[str]) -> str:
    """``"<area> <programme>"``; when taken, another programme name of the category, then the site's
    street ("Eastside Food Pantry on Harford Road"). Draws no random numbers (the rest of the city
    stays as it was for a seed)."""
    options = [programme] + [p for p in NAMES[category] if p != programme]
    candidates = [f"{area} {p}" for p in options]
    candidates += [f"{area} {programme} on {STREETS[(i + j) % len(STREETS)]}" for j in range(len(STREETS))]
    name = next((c for c in candidates if c not in seen), None)
    k = 2
    while name is None or name in seen:  # more sites than streets: number them
        name = f"{area} {programme} (site {k})"
        k += 1
    seen.add(name)
    return name


#: How one applies, by delivery; what it costs, by cost (the contract's "before you refer" columns).
APPLY = {"in_person": "Walk in during opening hours or call to book an intake appointment.",
         "phone": "Call the intake line; a staff member completes the application with you by phone.",
         "online": "Apply online; staff call back within two working days."}
FEES = {"free": "Free.", "sliding_scale": "Sliding scale by household income.",
        "fee": "A fee applies; ask about a waiver."}
HOURS = {"in_person": "Mon-Fri 9:00-17:00", "phone": "Mon-Fri 8:00-18:00", "online": "Online at any time"}


def referral_details(delivery: str, cost: str, districts: list[str], min_age, max_age, max_income) -> dict:
    """What a caseworker tells the resident before referring, derived from the service's own rules
    (no random draws: the rest of the city stays as it was for a seed)."""
    documents = ["Photo ID"]
    if min_age is not None or max_age is not None:
        documents.append("proof of age")
    if districts:
        documents.append("proof of address")
    if max_income is not None:
        documents.append("proof of income for the last month")
    return {"application_process": APPLY[delivery], "required_documents": _list_words(documents) + ".",
            "fees": FEES[cost], "hours": HOURS[delivery]}


def _list_words(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def eligibility_text(districts: list[str], min_age, max_age, max_income, languages: list[str],
                     capacity) -> str:
    """The rules of a service in words, e.g. 'Residents of D03 aged 60 and older.'"""
    who = f"Residents of {_list_words(districts)}" if districts else "Residents"
    parts = []
    if min_age is not None and max_age is not None:
        parts.append(f"aged {min_age} to {max_age}")
    elif min_age is not None:
        parts.append(f"aged {min_age} and older")
    elif max_age is not None:
        parts.append(f"aged {max_age} and younger")
    if max_income is not None:
        parts.append(f"with a monthly income of ${max_income:,} or less")
    text = ""
    if districts or parts:
        text = " ".join([who, *([parts[0]] if parts else [])])
        if len(parts) > 1:
            text += " " + parts[1]
        text += "."
    if languages:
        text += (" " if text else "") + f"Services in {_list_words([LANGUAGE_NAMES.get(x, x) for x in languages])}."
    if capacity == 0:
        text += (" " if text else "") + "Currently full; waitlist only."
    return text or "Open to all residents."


def generate_catalog(n: int, districts: DistrictSet, rng: np.random.Generator) -> pd.DataFrame:
    """``n`` services in the contract of :mod:`recommender.schema`, plus ``delivery`` and ``cost``."""
    ds = districts.districts
    children = _children()
    roots = list(SUPPLY)
    supply = np.array([SUPPLY[r] for r in roots])
    clat, clon = districts.centroids()
    mix = {d.code: dict(d.languages) for d in ds}
    n_orgs = max(3, int(round(n / 3.5)))
    org_names, org_home, org_size = _organizations(n_orgs, districts, rng)
    org_p = org_size / org_size.sum()
    # Neighbouring districts (by centroid distance) for multi-district services.
    east = np.array([d.east_km for d in ds])
    north = np.array([d.north_km for d in ds])
    near = np.argsort(np.hypot(east[:, None] - east[None, :], north[:, None] - north[None, :]), axis=1)

    rows = []
    names_seen: set[str] = set()
    width = max(5, len(str(n)))
    for i in range(n):
        root = roots[int(rng.choice(len(roots), p=supply / supply.sum()))]
        first = root if rng.random() < 0.15 else _pick(rng, children[root])
        cats = [first]
        if rng.random() < 0.30:
            other = root if rng.random() < 0.5 else _pick(rng, RELATED[root])
            second = _pick(rng, children[other])
            if second != first:
                cats.append(second)
        org = int(rng.choice(n_orgs, p=org_p))
        home = int(org_home[org])
        scope = rng.random()
        if scope < 0.50:
            served = [home]
        elif scope < 0.60:
            served = [int(x) for x in near[home, : 1 + int(rng.integers(1, 3))]]
        else:
            served = []
        site = home if served or rng.random() < 0.5 else int(rng.integers(len(ds)))
        lat = clat[site] + rng.normal(0, 1.0 * districts.scale) / KM_PER_DEG_LAT
        lon = clon[site] + rng.normal(0, 1.0 * districts.scale) / districts.km_per_deg_lon
        area = ds[home].name if served else CITY_NAME

        min_age = max_age = max_income = None
        if root == "eldercare" and rng.random() < 0.9:
            min_age = int(_choice(rng, ((55, .15), (60, .4), (62, .15), (65, .3))))
        elif first in ("jobs/training", "education/adult", "health/mental") and rng.random() < 0.18:
            min_age, max_age = int(_pick(rng, (16, 18))), 24
        elif root == "health" and rng.random() < 0.08:
            min_age = 65
        if rng.random() < MEANS_TESTED[root]:
            max_income = int(_pick(rng, INCOME_LIMITS))
        site_mix = mix[ds[site].code]
        languages: list[str] = []
        if first == "education/language":
            learners = sorted(site_mix, key=lambda x: -site_mix[x])[:2]
            languages = learners if rng.random() < 0.6 else []
        elif site_mix and rng.random() < 0.20:
            top = max(site_mix, key=lambda x: site_mix[x])
            languages = [top] if rng.random() < 0.2 else ["en", top]
        capacity = None
        if rng.random() < 0.60:
            capacity = 0 if rng.random() < 0.06 else int(1 + rng.lognormal(np.log(40), 1.0))
        status = _choice(rng, STATUS_SHARES)
        delivery = DELIVERY[int(rng.choice(3, p=DELIVERY_SHARES.get(root, DELIVERY_SHARES["default"])))]
        cost = _choice(rng, COST)

        name = _unique_name(area, _pick(rng, NAMES[first]), first, i, names_seen)

        text = [_pick(rng, PHRASES[c]) for c in cats]
        text.append(_pick(rng, DELIVERY_PHRASES[delivery]))
        if ("zh" in languages or site_mix.get("zh", 0) >= .08) and rng.random() < 0.7:
            text.append(PHRASES_ZH[root])
        if ("es" in languages or site_mix.get("es", 0) >= .2) and rng.random() < 0.5:
            text.append(PHRASES_ES[root])
        served_codes = [ds[s].code for s in served]
        rules = eligibility_text(served_codes, min_age, max_age, max_income, languages, capacity)
        rows.append({
            "service_id": f"S{i + 1:0{width}d}",
            "name": name,
            "organization": org_names[org] if rng.random() >= 0.02 else None,
            "description": " ".join(text) if rng.random() >= 0.03 else None,
            "status": status,
            "categories": ";".join(cats),
            "min_age": min_age,
            "max_age": max_age,
            "districts": ";".join(served_codes) or None,
            "languages": ";".join(languages) or None,
            "max_income": max_income,
            "capacity": capacity,
            "eligibility_description": rules if rng.random() >= 0.05 else None,
            "latitude": round(float(lat), 5) if rng.random() >= 0.03 else None,
            "longitude": round(float(lon), 5),
            "delivery": delivery,
            "cost": cost,
            **referral_details(delivery, cost, served_codes, min_age, max_age, max_income),
        })
    frame = pd.DataFrame(rows)
    frame.loc[frame["latitude"].isna(), "longitude"] = None
    for col in ("min_age", "max_age", "max_income", "capacity"):
        frame[col] = frame[col].astype("Int64")
    for col in ("latitude", "longitude"):
        frame[col] = frame[col].astype("float64")
    return frame
