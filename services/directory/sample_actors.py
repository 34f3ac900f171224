"""The sample directory for `lotse dev`: fictional organisations across the Saarland.

Every organisation, person, address and mailbox here is made up. Web sites and mail use
the reserved `.example` domain; phone numbers come from the ranges the Bundesnetzagentur
keeps free for films and examples (030 23125 …, 069 90009 …, 040 66969 …, 0221 4710 …,
089 99998 …), so no real line rings. Coordinates are town centres.

Coverage is uneven on purpose, as it is in real life: childcare and psychosocial support
are offered only in some districts, so `regionCoverage` for a town in the Landkreis
St. Wendel (say 10046117) shows them uncovered.

`owner` names the sample member who created the actor (services/identity/sample.py).
"""

from __future__ import annotations

from typing import Any

# Region keys (AGS) from data/regions.csv.
SAARLAND = "10"
RV_SAARBRUECKEN, MERZIG_WADERN, NEUNKIRCHEN_KREIS, SAARLOUIS_KREIS, SAARPFALZ, ST_WENDEL_KREIS = (
    "10041", "10042", "10043", "10044", "10045", "10046")
SAARBRUECKEN, VOELKLINGEN, PUETTLINGEN, SULZBACH, HEUSWEILER = (
    "10041100", "10041519", "10041515", "10041518", "10041513")
MERZIG, WADERN, LOSHEIM, PERL = "10042113", "10042116", "10042112", "10042115"
NEUNKIRCHEN, OTTWEILER, ILLINGEN = "10043114", "10043115", "10043112"
SAARLOUIS, DILLINGEN, LEBACH = "10044115", "10044111", "10044112"
HOMBURG, ST_INGBERT, BLIESKASTEL, BEXBACH = "10045114", "10045117", "10045112", "10045111"
ST_WENDEL, THOLEY = "10046117", "10046118"


def _address(street: str, postal_code: str, locality: str) -> dict[str, str]:
    return {"street": street, "postal_code": postal_code, "locality": locality}


def _at(latitude: float, longitude: float) -> dict[str, float]:
    return {"latitude": latitude, "longitude": longitude}


def _person(name: str, function: str, *, public: bool, email: str | None = None, phone: str | None = None,
            topics: list[str] | None = None, languages: list[str] | None = None) -> dict[str, Any]:
    return {"name": name, "function": function, "public": public, "email": email, "phone": phone,
            "topics": topics or [], "languages": languages or []}


def _offering(name: str, description: str, *, topics: list[str], eligibility: str = "",
              languages: list[str] | None = None, regions: list[str] | None = None,
              email: str | None = None, phone: str | None = None) -> dict[str, Any]:
    return {"name": name, "description": description, "topics": topics, "eligibility": eligibility,
            "languages": languages or [], "regions": regions or [], "email": email, "phone": phone}


ACTORS: list[dict[str, Any]] = [
    # ---- state ---------------------------------------------------------------------------
    dict(
        owner="anna.schmidt", kind="state-authority",
        name="Landesstelle für Integration und Teilhabe Saarland", short_name="Landesstelle Integration",
        description="Die Landesstelle koordiniert die Integrationsarbeit des Landes, fördert kommunale "
                    "Integrationsprojekte und berät Kommunen, Träger und Migrantenorganisationen zu "
                    "Förderprogrammen, Integrationskursen und Einbürgerung.",
        website="https://www.landesstelle-integration.example", email="kontakt@landesstelle-integration.example",
        phone="030 23125 101", address=_address("Hohenzollernstraße 40", "66117", "Saarbrücken"),
        coordinates=_at(49.2317, 6.9852), regions=[SAARLAND],
        topics=["integration-courses", "naturalisation", "volunteering", "anti-discrimination"],
        languages=["de", "en", "fr"],
        offerings=[
            _offering("Förderprogramm Kommunale Integrationsarbeit",
                      "Zuschüsse für Projekte von Kommunen und freien Trägern, die Ankommen, Sprache und "
                      "Teilhabe vor Ort stärken. Antragsfrist jeweils zum 31. März.",
                      topics=["volunteering", "mentoring"],
                      eligibility="Kommunen, Landkreise und gemeinnützige Träger mit Sitz im Saarland."),
            _offering("Einbürgerungskampagne „Saarländisch werden“",
                      "Informationsabende und Material in mehreren Sprachen rund um die Einbürgerung.",
                      topics=["naturalisation"], languages=["de", "en", "ar", "tr", "uk", "ru"]),
        ],
        contacts=[
            _person("Dr. Katrin Albers", "Referatsleiterin Integration", public=True,
                    email="k.albers@landesstelle-integration.example", phone="030 23125 102",
                    topics=["integration-courses", "volunteering"], languages=["de", "en"]),
            _person("Jonas Reuter", "Referent Förderprogramme", public=False,
                    email="j.reuter@landesstelle-integration.example"),
        ],
    ),
    dict(
        owner="mehmet.yilmaz", kind="state-authority",
        name="Landesamt für Aufenthalt und Einbürgerung Saar", short_name="LAE Saar",
        description="Zentrale Stelle des Landes für aufenthaltsrechtliche Fragen von Geflüchteten, "
                    "Familiennachzug und Einbürgerungsverfahren. Termine nur nach Vereinbarung.",
        website="https://www.lae-saar.example", email="service@lae-saar.example", phone="030 23125 110",
        address=_address("Pommernstraße 8", "66822", "Lebach"), coordinates=_at(49.4103, 6.9104),
        regions=[SAARLAND], topics=["residence-law", "family-reunification", "naturalisation"],
        languages=["de", "en", "ar", "fa"],
        offerings=[
            _offering("Terminvergabe Familiennachzug",
                      "Beratung zu Visumverfahren und Unterlagen für den Nachzug von Ehepartnern und Kindern.",
                      topics=["family-reunification"], languages=["de", "en", "ar"],
                      eligibility="Personen mit Schutzstatus oder Aufenthaltserlaubnis im Saarland."),
        ],
        contacts=[
            _person("Sandra Kiefer", "Sachgebietsleiterin Einbürgerung", public=True,
                    email="einbuergerung@lae-saar.example", phone="030 23125 111", topics=["naturalisation"]),
        ],
    ),
    # ---- districts -----------------------------------------------------------------------
    dict(
        owner="anna.schmidt", kind="district",
        name="Regionalverband Saarbrücken – Fachdienst Migration und Integration",
        short_name="RV Saarbrücken Migration",
        description="Der Fachdienst ist Ausländerbehörde und Integrationsstelle des Regionalverbands. "
                    "Er berät zu Aufenthalt, Integrationskursen und Unterbringung und vernetzt die "
                    "Integrationsbeauftragten der zehn Städte und Gemeinden.",
        website="https://www.rv-saarbruecken-migration.example", email="migration@rv-saarbruecken.example",
        phone="030 23125 120", address=_address("Schlossplatz 6", "66119", "Saarbrücken"),
        coordinates=_at(49.2306, 6.9932), regions=[RV_SAARBRUECKEN],
        topics=["residence-law", "integration-courses", "housing", "social-benefits"],
        languages=["de", "en", "fr", "ar"],
        offerings=[
            _offering("Unterbringung Geflüchteter",
                      "Zuweisung und Betreuung in Gemeinschaftsunterkünften und angemieteten Wohnungen.",
                      topics=["housing"], eligibility="Dem Regionalverband zugewiesene Geflüchtete."),
        ],
        contacts=[
            _person("Birgit Haas", "Kreisintegrationsbeauftragte", public=True,
                    email="b.haas@rv-saarbruecken.example", phone="030 23125 121",
                    topics=["integration-courses", "volunteering"], languages=["de", "en"]),
            _person("Tobias Wendt", "Fallmanager Unterbringung", public=False, phone="030 23125 122",
                    topics=["housing"]),
        ],
    ),
    dict(
        owner="mehmet.yilmaz", kind="district",
        name="Landkreis Saarlouis – Integrationsbüro", short_name="Integrationsbüro Saarlouis",
        description="Das Integrationsbüro des Landkreises unterstützt Städte und Gemeinden, koordiniert "
                    "Sprachkurse und das Ehrenamt und ist Ansprechstelle für Migrantenorganisationen.",
        website="https://www.kreis-saarlouis-integration.example", email="integration@kreis-saarlouis.example",
        phone="069 90009 130", address=_address("Kaiser-Wilhelm-Straße 4", "66740", "Saarlouis"),
        coordinates=_at(49.3136, 6.7519), regions=[SAARLOUIS_KREIS],
        topics=["language-courses", "volunteering", "residence-law", "social-counselling"],
        languages=["de", "en", "ar", "tr"],
        offerings=[
            _offering("Sprachkursvermittlung",
                      "Wir finden mit Ihnen einen passenden Sprach- oder Integrationskurs im Kreisgebiet.",
                      topics=["language-courses", "integration-courses"], languages=["de", "ar", "tr", "en"]),
        ],
        contacts=[
            _person("Nadine Scholl", "Kreisintegrationsbeauftragte", public=True,
                    email="n.scholl@kreis-saarlouis.example", phone="069 90009 131"),
        ],
    ),
    dict(
        owner="julia.weber", kind="district",
        name="Landkreis Neunkirchen – Kommunales Integrationszentrum", short_name="KI Neunkirchen",
        description="Das Kommunale Integrationszentrum bündelt Angebote zu Bildung, Ausbildung und "
                    "Arbeit für Zugewanderte im Landkreis und berät Schulen und Kitas.",
        website="https://www.ki-neunkirchen.example", email="ki@landkreis-neunkirchen.example",
        phone="069 90009 140", address=_address("Wilhelm-Heinrich-Straße 36", "66564", "Ottweiler"),
        coordinates=_at(49.4006, 7.1631), regions=[NEUNKIRCHEN_KREIS],
        topics=["education", "vocational-training", "employment", "youth"], languages=["de", "en", "ru", "uk"],
        offerings=[
            _offering("Seiteneinstieg Schule",
                      "Beratung für neu zugewanderte Familien zur Anmeldung an Schulen und zu Sprachförderklassen.",
                      topics=["education", "family"], languages=["de", "uk", "ru", "ar"],
                      eligibility="Familien mit schulpflichtigen Kindern, die neu im Landkreis sind."),
        ],
        contacts=[
            _person("Elena Brandt", "Bildungskoordinatorin für Neuzugewanderte", public=True,
                    email="e.brandt@landkreis-neunkirchen.example", languages=["de", "ru", "uk"]),
        ],
    ),
    dict(
        owner="anna.schmidt", kind="district",
        name="Landkreis Merzig-Wadern – Stabsstelle Integration", short_name="Integration Merzig-Wadern",
        description="Die Stabsstelle koordiniert die Integrationsarbeit im ländlichen Raum zwischen Saar "
                    "und Hunsrück, mit Sprechstunden in Merzig, Wadern und Losheim am See.",
        website="https://www.integration-merzig-wadern.example", email="integration@merzig-wadern.example",
        phone="069 90009 150", address=_address("Bahnhofstraße 44", "66663", "Merzig"),
        coordinates=_at(49.4436, 6.6375), regions=[MERZIG_WADERN],
        topics=["social-counselling", "volunteering", "housing"], languages=["de", "fr", "en"],
        offerings=[
            _offering("Mobile Sprechstunde",
                      "Einmal im Monat in jeder Gemeinde des Kreises, ohne Termin.",
                      topics=["social-counselling"], regions=[WADERN, LOSHEIM, PERL]),
        ],
        contacts=[
            _person("Markus Thiel", "Integrationsmanager", public=False,
                    email="m.thiel@merzig-wadern.example", phone="069 90009 151"),
        ],
    ),
    dict(
        owner="julia.weber", kind="district",
        name="Saarpfalz-Kreis – Integrationsbüro", short_name="Integrationsbüro Saarpfalz",
        description="Anlaufstelle des Saarpfalz-Kreises für Zugewanderte, Ehrenamtliche und Kommunen; "
                    "Schwerpunkte sind Wohnen und der Übergang in Arbeit.",
        website="https://www.saarpfalz-integration.example", email="integration@saarpfalz.example",
        phone="069 90009 160", address=_address("Am Forum 1", "66424", "Homburg"),
        coordinates=_at(49.3268, 7.3380), regions=[SAARPFALZ], topics=["housing", "employment", "volunteering"],
        languages=["de", "en", "ro", "bg"],
        offerings=[],
        contacts=[
            _person("Sabine Krämer", "Kreisintegrationsbeauftragte", public=True,
                    email="s.kraemer@saarpfalz.example", phone="069 90009 161"),
        ],
    ),
    # ---- municipalities ------------------------------------------------------------------
    dict(
        owner="anna.schmidt", kind="municipality",
        name="Landeshauptstadt Saarbrücken – Zuwanderungs- und Integrationsbüro", short_name="ZIB Saarbrücken",
        description="Das Zuwanderungs- und Integrationsbüro ist erste Anlaufstelle der Landeshauptstadt: "
                    "Willkommensberatung, Kita-Platzvermittlung für neu zugezogene Familien, interkulturelle "
                    "Öffnung der Verwaltung und Förderung von Migrantenvereinen.",
        website="https://www.zib-saarbruecken.example", email="zib@saarbruecken-stadt.example",
        phone="030 23125 201", address=_address("Rathausplatz 1", "66111", "Saarbrücken"),
        coordinates=_at(49.2354, 6.9965), regions=[SAARBRUECKEN],
        topics=["childcare", "family", "anti-discrimination", "volunteering"],
        languages=["de", "en", "fr", "ar", "tr", "uk"],
        offerings=[
            _offering("Kita-Lotsinnen",
                      "Begleitung neu zugezogener Familien bei der Suche nach einem Kita-Platz und der Anmeldung.",
                      topics=["childcare", "family"], languages=["de", "ar", "uk", "tr"],
                      eligibility="Familien mit Kindern unter sechs Jahren, die in Saarbrücken wohnen."),
            _offering("Willkommensberatung",
                      "Erstorientierung für Neuzugewanderte: Anmeldung, Konto, Krankenversicherung, Schule.",
                      topics=["social-counselling"], languages=["de", "en", "ar", "uk", "fa"]),
        ],
        contacts=[
            _person("Leyla Demir", "Kommunale Integrationsbeauftragte", public=True,
                    email="l.demir@saarbruecken-stadt.example", phone="030 23125 202",
                    topics=["anti-discrimination", "volunteering"], languages=["de", "tr", "en"]),
            _person("Christian Maurer", "Sachbearbeiter Kita-Vermittlung", public=False,
                    email="c.maurer@saarbruecken-stadt.example", topics=["childcare"]),
        ],
    ),
    dict(
        owner="mehmet.yilmaz", kind="municipality",
        name="Stadt Völklingen – Integrationsbeauftragte", short_name="Integration Völklingen",
        description="Die Integrationsbeauftragte der Stadt Völklingen vernetzt Vereine, Schulen und "
                    "Verwaltung und organisiert die Interkulturelle Woche.",
        website="https://www.voelklingen-integration.example", email="integration@voelklingen.example",
        phone="030 23125 210", address=_address("Hindenburgstraße 8", "66333", "Völklingen"),
        coordinates=_at(49.2519, 6.8590), regions=[VOELKLINGEN], topics=["volunteering", "anti-discrimination", "youth"],
        languages=["de", "tr", "it"],
        offerings=[],
        contacts=[
            _person("Aylin Koç", "Kommunale Integrationsbeauftragte", public=True,
                    email="a.koc@voelklingen.example", phone="030 23125 211", languages=["de", "tr"]),
        ],
    ),
    dict(
        owner="julia.weber", kind="municipality",
        name="Kreisstadt Neunkirchen – Fachbereich Soziales und Integration", short_name="Neunkirchen Integration",
        description="Der Fachbereich berät Zugewanderte zu Sozialleistungen und Wohnen und vermittelt "
                    "Betreuungsplätze für Kinder aus geflüchteten Familien.",
        website="https://www.neunkirchen-integration.example", email="soziales@neunkirchen-stadt.example",
        phone="030 23125 220", address=_address("Oberer Markt 16", "66538", "Neunkirchen"),
        coordinates=_at(49.3464, 7.1798), regions=[NEUNKIRCHEN],
        topics=["social-benefits", "housing", "childcare"], languages=["de", "en", "ar", "ku"],
        offerings=[
            _offering("Betreuungsplätze für Kinder aus geflüchteten Familien",
                      "Brückenangebote in Spielgruppen, bis ein Kita-Platz frei wird.",
                      topics=["childcare"], eligibility="Kinder von ein bis sechs Jahren mit Wohnsitz in Neunkirchen."),
        ],
        contacts=[
            _person("Heike Paulus", "Kommunale Integrationsbeauftragte", public=True,
                    email="h.paulus@neunkirchen-stadt.example", phone="030 23125 221"),
        ],
    ),
    dict(
        owner="anna.schmidt", kind="municipality",
        name="Stadt St. Wendel – Bürgerbüro Integration", short_name="Integration St. Wendel",
        description="Im Bürgerbüro erhalten Zugewanderte Auskunft zu Anmeldung, Wohnungssuche und den "
                    "Angeboten der Vereine in der Stadt.",
        website="https://www.sankt-wendel-integration.example", email="buergerbuero@st-wendel-stadt.example",
        phone="030 23125 230", address=_address("Schlossstraße 7", "66606", "St. Wendel"),
        coordinates=_at(49.4666, 7.1683), regions=[ST_WENDEL], topics=["housing", "social-counselling"],
        languages=["de", "en"],
        offerings=[],
        contacts=[
            _person("Thomas Becker", "Integrationsbeauftragter", public=False, email="t.becker@st-wendel-stadt.example"),
        ],
    ),
    # ---- job centres ---------------------------------------------------------------------
    dict(
        owner="mehmet.yilmaz", kind="job-centre",
        name="Jobcenter Regionalverband Saarbrücken – Team Migration", short_name="Jobcenter RV SB",
        description="Das Team Migration betreut Leistungsberechtigte mit Fluchtgeschichte: Fallmanagement, "
                    "Vermittlung in Sprachkurse, Anerkennung und Arbeit.",
        website="https://www.jobcenter-rvsb.example", email="team-migration@jobcenter-rvsb.example",
        phone="069 90009 301", address=_address("Hafenstraße 18", "66111", "Saarbrücken"),
        coordinates=_at(49.2380, 6.9887), regions=[RV_SAARBRUECKEN],
        topics=["employment", "social-benefits", "language-courses"], languages=["de", "en", "ar", "uk", "fa"],
        offerings=[
            _offering("Fallmanagement für Geflüchtete",
                      "Persönliche Begleitung vom Sprachkurs bis in Ausbildung oder Arbeit.",
                      topics=["employment", "vocational-training"], languages=["de", "ar", "uk"],
                      eligibility="Leistungsberechtigte nach dem SGB II im Regionalverband."),
        ],
        contacts=[
            _person("Miriam Roth", "Fallmanagerin", public=False, email="m.roth@jobcenter-rvsb.example",
                    phone="069 90009 302", topics=["employment"], languages=["de", "en"]),
            _person("Yusuf Aydın", "Fallmanager Migration", public=False, email="y.aydin@jobcenter-rvsb.example",
                    languages=["de", "tr", "ar"]),
        ],
    ),
    dict(
        owner="julia.weber", kind="job-centre",
        name="Agentur für Arbeit Saarland – Welcome Center", short_name="Welcome Center Saar",
        description="Das Welcome Center berät internationale Fachkräfte und Arbeitgeber zu Arbeitsmarkt, "
                    "Aufenthalt für Beschäftigung und Anerkennung – landesweit.",
        website="https://www.welcome-center-saar.example", email="welcome@arbeit-saar.example",
        phone="069 90009 310", address=_address("Hafenstraße 18", "66111", "Saarbrücken"),
        coordinates=_at(49.2382, 6.9890), regions=[SAARLAND],
        topics=["employment", "recognition-of-qualifications"], languages=["de", "en", "fr", "es", "ro"],
        offerings=[
            _offering("Beratung für Arbeitgeber",
                      "Wie stelle ich Fachkräfte aus dem Ausland ein? Verfahren, Fristen, Förderung.",
                      topics=["employment"], eligibility="Arbeitgeber mit Sitz im Saarland."),
        ],
        contacts=[
            _person("Daniel Fuchs", "Berater internationale Fachkräfte", public=True,
                    email="d.fuchs@arbeit-saar.example", languages=["de", "en", "es"]),
        ],
    ),
    # ---- housing -------------------------------------------------------------------------
    dict(
        owner="anna.schmidt", kind="housing-company",
        name="Saarländische Wohnbau Beispiel GmbH", short_name="Wohnbau Saar",
        description="Kommunales Wohnungsunternehmen mit rund 6.000 Wohnungen in Saarbrücken und Völklingen. "
                    "Wir vermieten auch an Haushalte mit Wohnberechtigungsschein und Geflüchtete.",
        website="https://www.wohnbau-saar.example", email="vermietung@wohnbau-saar.example",
        phone="040 66969 401", address=_address("Kaiserstraße 22", "66111", "Saarbrücken"),
        coordinates=_at(49.2340, 6.9990), regions=[SAARBRUECKEN, VOELKLINGEN], topics=["housing"],
        languages=["de", "en"],
        offerings=[
            _offering("Wohnungen für Geflüchtete",
                      "Kontingent an Wohnungen, das wir mit dem Regionalverband vergeben.",
                      topics=["housing"], eligibility="Mit Zuweisung oder Wohnberechtigungsschein."),
        ],
        contacts=[
            _person("Frank Schneider", "Kundenbetreuer Vermietung", public=False, phone="040 66969 402"),
        ],
    ),
    dict(
        owner="julia.weber", kind="housing-company",
        name="Wohnen an der Saar Saarlouis GmbH", short_name="Wohnen an der Saar",
        description="Wohnungsunternehmen im Landkreis Saarlouis mit Quartiersmanagement in drei Stadtteilen.",
        website="https://www.wohnen-an-der-saar.example", email="info@wohnen-an-der-saar.example",
        phone="040 66969 410", address=_address("Großer Markt 5", "66740", "Saarlouis"),
        coordinates=_at(49.3137, 6.7520), regions=[SAARLOUIS, DILLINGEN], topics=["housing", "social-counselling"],
        languages=["de", "fr"],
        offerings=[
            _offering("Quartiersmanagement Steinrausch",
                      "Nachbarschaftstreff, Hausaufgabenhilfe und Sprechstunde für Mieterinnen und Mieter.",
                      topics=["social-counselling", "youth"], regions=[SAARLOUIS]),
        ],
        contacts=[
            _person("Julia Hartmann", "Quartiersmanagerin", public=True, email="j.hartmann@wohnen-an-der-saar.example"),
        ],
    ),
    dict(
        owner="mehmet.yilmaz", kind="housing-cooperative",
        name="Wohnungsbaugenossenschaft Burbach eG", short_name="WBG Burbach",
        description="Genossenschaft mit 1.200 Wohnungen im Saarbrücker Westen. Neue Mitglieder aus allen "
                    "Ländern sind willkommen; wir beraten zu Genossenschaftsanteilen und Förderung.",
        website="https://www.wbg-burbach.example", email="mitglieder@wbg-burbach.example",
        phone="040 66969 420", address=_address("Bergstraße 11", "66115", "Saarbrücken"),
        coordinates=_at(49.2421, 6.9455), regions=[SAARBRUECKEN, PUETTLINGEN], topics=["housing"],
        languages=["de", "tr"],
        offerings=[],
        contacts=[
            _person("Gerd Klein", "Vorstand Mitgliederbetreuung", public=True, email="g.klein@wbg-burbach.example"),
        ],
    ),
    dict(
        owner="julia.weber", kind="housing-cooperative",
        name="Wohnungsgenossenschaft Sonnenhügel Homburg eG", short_name="Sonnenhügel eG",
        description="Bezahlbares, gemeinschaftliches Wohnen in Homburg und Bexbach; Patenschaften zwischen "
                    "langjährigen und neuen Mitgliedern.",
        website="https://www.sonnenhuegel-eg.example", email="kontakt@sonnenhuegel-eg.example",
        phone="040 66969 430", address=_address("Talstraße 2", "66424", "Homburg"),
        coordinates=_at(49.3260, 7.3360), regions=[HOMBURG, BEXBACH], topics=["housing", "mentoring"],
        languages=["de", "en"],
        offerings=[],
        contacts=[],
    ),
    # ---- welfare associations ------------------------------------------------------------
    dict(
        owner="anna.schmidt", kind="welfare-association",
        name="Sozialwerk Saar-Blies e.V.", short_name="Sozialwerk Saar-Blies",
        description="Freier Wohlfahrtsverband mit Migrationsberatung, Jugendmigrationsdienst und "
                    "Frauenprojekten im Regionalverband und im Saarpfalz-Kreis.",
        website="https://www.sozialwerk-saar-blies.example", email="info@sozialwerk-saar-blies.example",
        phone="0221 4710 501", address=_address("Dudweilerstraße 30", "66111", "Saarbrücken"),
        coordinates=_at(49.2365, 7.0001), regions=[RV_SAARBRUECKEN, SAARPFALZ],
        topics=["social-counselling", "women-and-girls", "youth", "family"],
        languages=["de", "en", "ar", "fa", "ti", "so"],
        offerings=[
            _offering("Migrationsberatung für Erwachsene",
                      "Begleitung in den ersten drei Jahren: Behörden, Sprache, Arbeit, Familie.",
                      topics=["social-counselling", "social-benefits"], languages=["de", "ar", "fa", "ti"],
                      eligibility="Erwachsene Zugewanderte ab 27 Jahren."),
            _offering("Frauencafé International",
                      "Offener Treff mit Kinderbetreuung, Sprachpraxis und Beratung von Frau zu Frau.",
                      topics=["women-and-girls", "language-courses"], regions=[SAARBRUECKEN, ST_INGBERT],
                      languages=["de", "ar", "so", "ti"]),
        ],
        contacts=[
            _person("Ruth Engel", "Migrationsberaterin", public=True, email="r.engel@sozialwerk-saar-blies.example",
                    phone="0221 4710 502", topics=["social-counselling"], languages=["de", "en"]),
            _person("Senait Tesfaye", "Beraterin für Frauen", public=False, languages=["ti", "de", "en"]),
        ],
    ),
    dict(
        owner="mehmet.yilmaz", kind="welfare-association",
        name="Verein für Soziale Dienste Saarlouis e.V.", short_name="VSD Saarlouis",
        description="Wir beraten Geflüchtete im Asylverfahren, begleiten Familien und betreiben eine "
                    "Kleiderkammer in Dillingen.",
        website="https://www.vsd-saarlouis.example", email="beratung@vsd-saarlouis.example",
        phone="0221 4710 510", address=_address("Lisdorfer Straße 9", "66740", "Saarlouis"),
        coordinates=_at(49.3120, 6.7500), regions=[SAARLOUIS_KREIS],
        topics=["asylum-procedure-counselling", "family", "social-counselling", "childcare"],
        languages=["de", "ar", "ku", "fa", "ps"],
        offerings=[
            _offering("Asylverfahrensberatung",
                      "Unabhängige Beratung vor und nach der Anhörung beim Bundesamt.",
                      topics=["asylum-procedure-counselling", "legal-advice"], languages=["de", "ar", "fa", "ps"],
                      eligibility="Asylsuchende im Landkreis Saarlouis, kostenlos und vertraulich."),
        ],
        contacts=[
            _person("Peter Wagner", "Asylverfahrensberater", public=True, email="p.wagner@vsd-saarlouis.example",
                    phone="0221 4710 511", topics=["asylum-procedure-counselling"]),
        ],
    ),
    dict(
        owner="julia.weber", kind="welfare-association",
        name="Nachbarschaftshilfe Ostertal e.V.", short_name="Nachbarschaftshilfe Ostertal",
        description="Kleiner Wohlfahrtsverein im Landkreis St. Wendel: Fahrdienste, Behördenbegleitung "
                    "und Sozialberatung für Zugewanderte auf dem Land.",
        website="https://www.nachbarschaftshilfe-ostertal.example", email="info@nachbarschaftshilfe-ostertal.example",
        phone="0221 4710 520", address=_address("Hauptstraße 20", "66606", "St. Wendel"),
        coordinates=_at(49.4700, 7.1700), regions=[ST_WENDEL_KREIS], topics=["social-counselling", "mentoring"],
        languages=["de", "ru", "uk"],
        offerings=[],
        contacts=[
            _person("Irina Vogel", "Koordinatorin Behördenbegleitung", public=True, languages=["de", "ru", "uk"]),
        ],
    ),
    # ---- migrant organisations -----------------------------------------------------------
    dict(
        owner="mehmet.yilmaz", kind="migrant-organisation",
        name="Ukrainischer Kulturverein Saar e.V.", short_name="Ukrainischer Kulturverein",
        description="Treffpunkt für Ukrainerinnen und Ukrainer im Saarland: Samstagsschule, Beratung auf "
                    "Ukrainisch und Russisch, Kulturabende.",
        website="https://www.ukrainischer-kulturverein-saar.example", email="info@ukrainischer-kulturverein-saar.example",
        phone="089 99998 601", address=_address("Mainzer Straße 54", "66121", "Saarbrücken"),
        coordinates=_at(49.2290, 7.0100), regions=[SAARLAND], topics=["education", "interpreting", "volunteering"],
        languages=["uk", "ru", "de"],
        offerings=[
            _offering("Samstagsschule",
                      "Unterricht in Ukrainisch, Mathematik und Deutsch für Kinder von 6 bis 14 Jahren.",
                      topics=["education", "youth"], regions=[SAARBRUECKEN], languages=["uk", "de"]),
        ],
        contacts=[
            _person("Oksana Melnyk", "Vorsitzende", public=True, email="vorstand@ukrainischer-kulturverein-saar.example",
                    languages=["uk", "ru", "de"]),
        ],
    ),
    dict(
        owner="mehmet.yilmaz", kind="migrant-organisation",
        name="Syrisch-Deutscher Verein Saarbrücken e.V.", short_name="SDV Saarbrücken",
        description="Wir begleiten Familien aus Syrien bei Behördengängen, übersetzen und organisieren "
                    "Hausaufgabenhilfe und Elternabende.",
        website="https://www.sdv-saarbruecken.example", email="kontakt@sdv-saarbruecken.example",
        phone="089 99998 610", address=_address("Breite Straße 70", "66115", "Saarbrücken"),
        coordinates=_at(49.2400, 6.9700), regions=[RV_SAARBRUECKEN], topics=["interpreting", "family", "education"],
        languages=["ar", "ku", "de"],
        offerings=[],
        contacts=[
            _person("Rami Haddad", "Koordinator Sprachmittlung", public=False, phone="089 99998 611",
                    languages=["ar", "de"]),
        ],
    ),
    dict(
        owner="anna.schmidt", kind="migrant-organisation",
        name="Eritreische Gemeinschaft Saarland e.V.", short_name="Eritreische Gemeinschaft",
        description="Selbstorganisation von Menschen aus Eritrea: Beratung auf Tigrinya, Frauengruppe, "
                    "Begleitung zu Ärztinnen und Ärzten.",
        website="https://www.eritreische-gemeinschaft-saar.example", email="info@eritreische-gemeinschaft-saar.example",
        phone="089 99998 620", address=_address("Bahnhofstraße 3", "66538", "Neunkirchen"),
        coordinates=_at(49.3450, 7.1810), regions=[NEUNKIRCHEN_KREIS, RV_SAARBRUECKEN],
        topics=["health", "women-and-girls", "interpreting"], languages=["ti", "am", "de", "en"],
        offerings=[],
        contacts=[
            _person("Yonas Gebremedhin", "Vorstand", public=True, languages=["ti", "de"]),
        ],
    ),
    dict(
        owner="julia.weber", kind="migrant-organisation",
        name="Afghanischer Frauenverein Saarlouis e.V.", short_name="Afghanischer Frauenverein",
        description="Frauen aus Afghanistan und Iran unterstützen einander: Alphabetisierung, "
                    "Nähwerkstatt, Austausch zu Gesundheit und Erziehung.",
        website="https://www.afghanischer-frauenverein.example", email="kontakt@afghanischer-frauenverein.example",
        phone="089 99998 630", address=_address("Titzstraße 12", "66740", "Saarlouis"),
        coordinates=_at(49.3150, 6.7540), regions=[SAARLOUIS, DILLINGEN, LEBACH],
        topics=["women-and-girls", "language-courses", "health"], languages=["fa", "ps", "de"],
        offerings=[
            _offering("Alphabetisierungskurs für Frauen",
                      "Lesen und Schreiben in kleinen Gruppen, Kinderbetreuung während des Kurses.",
                      topics=["language-courses", "women-and-girls"], languages=["fa", "ps", "de"],
                      eligibility="Frauen ohne oder mit wenig Schulerfahrung."),
        ],
        contacts=[
            _person("Mariam Ahmadi", "Kursleitung", public=False, languages=["fa", "ps", "de"]),
        ],
    ),
    # ---- counselling ---------------------------------------------------------------------
    dict(
        owner="anna.schmidt", kind="counselling-service",
        name="Psychosoziales Zentrum für Geflüchtete Saar", short_name="PSZ Saar",
        description="Psychotherapeutische Beratung und Behandlung für traumatisierte Geflüchtete, mit "
                    "Sprachmittlung. Wartezeit derzeit etwa acht Wochen.",
        website="https://www.psz-saar.example", email="anmeldung@psz-saar.example", phone="030 23125 701",
        address=_address("Johannisstraße 2", "66111", "Saarbrücken"), coordinates=_at(49.2330, 6.9960),
        regions=[RV_SAARBRUECKEN, SAARLOUIS_KREIS, NEUNKIRCHEN_KREIS],
        topics=["psychosocial-support", "health"], languages=["de", "en", "ar", "fa", "ku", "ti"],
        offerings=[
            _offering("Stabilisierungsgruppe für Frauen",
                      "Acht Treffen in geschützter Runde, mit Dolmetscherin.",
                      topics=["psychosocial-support", "women-and-girls"], languages=["ar", "fa", "de"],
                      regions=[SAARBRUECKEN]),
        ],
        contacts=[
            _person("Dr. Laura Brenner", "Psychologische Psychotherapeutin", public=False,
                    email="l.brenner@psz-saar.example", topics=["psychosocial-support"]),
            _person("Ahmad Karimi", "Sprachmittler und Sozialarbeiter", public=True, phone="030 23125 702",
                    languages=["fa", "ps", "de"]),
        ],
    ),
    dict(
        owner="mehmet.yilmaz", kind="counselling-service",
        name="Jugendmigrationsdienst Neunkirchen", short_name="JMD Neunkirchen",
        description="Beratung für junge Menschen mit Migrationsgeschichte von 12 bis 27 Jahren: Schule, "
                    "Ausbildung, Freizeit und Zukunftsplanung.",
        website="https://www.jmd-neunkirchen.example", email="jmd@jmd-neunkirchen.example", phone="030 23125 710",
        address=_address("Lindenallee 5", "66538", "Neunkirchen"), coordinates=_at(49.3480, 7.1780),
        regions=[NEUNKIRCHEN_KREIS], topics=["youth", "vocational-training", "education"],
        languages=["de", "en", "ar", "tr", "ru"],
        offerings=[],
        contacts=[
            _person("Kevin Schuster", "Berater Jugendmigrationsdienst", public=True, email="k.schuster@jmd-neunkirchen.example"),
        ],
    ),
    dict(
        owner="julia.weber", kind="counselling-service",
        name="Frauenberatungsstelle Merzig", short_name="Frauenberatung Merzig",
        description="Beratung bei Gewalt, Trennung und Aufenthaltsfragen für Frauen, auch mit Dolmetscherinnen.",
        website="https://www.frauenberatung-merzig.example", email="beratung@frauenberatung-merzig.example",
        phone="030 23125 720", address=_address("Poststraße 17", "66663", "Merzig"),
        coordinates=_at(49.4440, 6.6380), regions=[MERZIG_WADERN],
        topics=["women-and-girls", "legal-advice", "residence-law"], languages=["de", "fr", "en", "ro"],
        offerings=[],
        contacts=[
            _person("Claudia Lenz", "Sozialpädagogin", public=False, phone="030 23125 721"),
        ],
    ),
    dict(
        owner="anna.schmidt", kind="counselling-service",
        name="Antidiskriminierungsberatung Saar", short_name="ADB Saar",
        description="Unabhängige Beratung für Menschen, die wegen Herkunft, Religion oder Sprache "
                    "benachteiligt werden – bei der Wohnungssuche, im Job, bei Behörden.",
        website="https://www.adb-saar.example", email="beratung@adb-saar.example", phone="030 23125 730",
        address=_address("St. Johanner Markt 20", "66111", "Saarbrücken"), coordinates=_at(49.2336, 6.9945),
        regions=[SAARLAND], topics=["anti-discrimination", "legal-advice"], languages=["de", "en", "fr", "tr", "ar"],
        offerings=[],
        contacts=[
            _person("Selin Arslan", "Beraterin Antidiskriminierung", public=True, email="s.arslan@adb-saar.example",
                    languages=["de", "tr", "en"]),
        ],
    ),
    # ---- recognition, language, education ------------------------------------------------
    dict(
        owner="julia.weber", kind="recognition-advice",
        name="Servicestelle Berufsanerkennung Saar", short_name="Anerkennung Saar",
        description="Kostenlose Beratung zur Anerkennung ausländischer Berufs- und Hochschulabschlüsse, "
                    "zu Anpassungsqualifizierungen und Kosten – landesweit, auch per Video.",
        website="https://www.anerkennung-saar.example", email="anerkennung@anerkennung-saar.example",
        phone="069 90009 801", address=_address("Franz-Josef-Röder-Straße 9", "66119", "Saarbrücken"),
        coordinates=_at(49.2290, 6.9950), regions=[SAARLAND],
        topics=["recognition-of-qualifications", "employment"],
        languages=["de", "en", "ar", "uk", "ru", "ro", "es"],
        offerings=[
            _offering("Anerkennungsberatung Gesundheitsberufe",
                      "Für Pflegekräfte, Ärztinnen und Ärzte sowie Gesundheitsfachberufe: Unterlagen, "
                      "Kenntnisprüfung, Fachsprachprüfung.",
                      topics=["recognition-of-qualifications", "health"], languages=["de", "en", "ar", "uk"],
                      eligibility="Menschen mit einem ausländischen Abschluss in einem Gesundheitsberuf."),
        ],
        contacts=[
            _person("Olga Petrenko", "Anerkennungsberaterin", public=True, email="o.petrenko@anerkennung-saar.example",
                    languages=["de", "uk", "ru"], topics=["recognition-of-qualifications"]),
            _person("Stefan Kunz", "Anerkennungsberater", public=False, email="s.kunz@anerkennung-saar.example"),
        ],
    ),
    dict(
        owner="mehmet.yilmaz", kind="language-course-provider",
        name="Sprachschule Brücke Saarbrücken", short_name="Sprachschule Brücke",
        description="Zugelassener Träger für Integrationskurse, Berufssprachkurse und Alphabetisierung; "
                    "Kurse vormittags, abends und mit Kinderbetreuung.",
        website="https://www.sprachschule-bruecke.example", email="kurse@sprachschule-bruecke.example",
        phone="069 90009 810", address=_address("Bahnhofstraße 90", "66111", "Saarbrücken"),
        coordinates=_at(49.2395, 6.9930), regions=[RV_SAARBRUECKEN],
        topics=["language-courses", "integration-courses"], languages=["de", "en", "ar", "uk"],
        offerings=[
            _offering("Integrationskurs mit Kinderbetreuung",
                      "Deutsch bis B1 und Orientierungskurs, vormittags mit Betreuung für Kinder unter drei Jahren.",
                      topics=["integration-courses"], eligibility="Mit Berechtigungsschein des Bundesamts."),
            _offering("Berufssprachkurs Pflege B2",
                      "Fachsprache für Pflegekräfte, in Zusammenarbeit mit Kliniken der Region.",
                      topics=["language-courses", "recognition-of-qualifications"]),
        ],
        contacts=[
            _person("Anja Becker", "Sprachkurskoordinatorin", public=True, email="a.becker@sprachschule-bruecke.example",
                    phone="069 90009 811"),
        ],
    ),
    dict(
        owner="julia.weber", kind="language-course-provider",
        name="Lernwerk Saarpfalz Sprachkurse", short_name="Lernwerk Saarpfalz",
        description="Deutschkurse von A1 bis C1 in Homburg, St. Ingbert und Blieskastel, auch online.",
        website="https://www.lernwerk-saarpfalz.example", email="info@lernwerk-saarpfalz.example",
        phone="069 90009 820", address=_address("Eisenbahnstraße 25", "66424", "Homburg"),
        coordinates=_at(49.3275, 7.3370), regions=[HOMBURG, ST_INGBERT, BLIESKASTEL],
        topics=["language-courses", "integration-courses"], languages=["de", "en", "ro", "bg", "pl"],
        offerings=[],
        contacts=[],
    ),
    dict(
        owner="anna.schmidt", kind="education-provider",
        name="Bildungswerk Saar-Pfalz gGmbH", short_name="Bildungswerk Saar-Pfalz",
        description="Berufsorientierung, Einstiegsqualifizierung und ausbildungsbegleitende Hilfen für junge "
                    "Geflüchtete; Werkstätten für Metall, Holz und Hauswirtschaft.",
        website="https://www.bildungswerk-saar-pfalz.example", email="info@bildungswerk-saar-pfalz.example",
        phone="040 66969 901", address=_address("Industriestraße 12", "66386", "St. Ingbert"),
        coordinates=_at(49.2786, 7.1152), regions=[SAARPFALZ, RV_SAARBRUECKEN],
        topics=["vocational-training", "employment", "youth"], languages=["de", "en", "ar", "fa"],
        offerings=[
            _offering("Einstiegsqualifizierung Handwerk",
                      "Sechs bis zwölf Monate Praktikum mit Berufsschule und Sprachförderung.",
                      topics=["vocational-training"], eligibility="Junge Menschen bis 25 Jahre mit Arbeitserlaubnis."),
        ],
        contacts=[
            _person("Michael Groß", "Ausbildungsbegleiter", public=True, email="m.gross@bildungswerk-saar-pfalz.example"),
        ],
    ),
    dict(
        owner="mehmet.yilmaz", kind="education-provider",
        name="Ausbildungsverbund Mittleres Saarland", short_name="Ausbildungsverbund",
        description="Verbund von Betrieben und Schulen, der Ausbildungsplätze an junge Zugewanderte "
                    "vermittelt und Betriebe bei der Ausbildung begleitet.",
        website="https://www.ausbildungsverbund-saar.example", email="kontakt@ausbildungsverbund-saar.example",
        phone="040 66969 910", address=_address("Am Bahnhof 4", "66822", "Lebach"),
        coordinates=_at(49.4110, 6.9110), regions=[SAARLOUIS_KREIS, NEUNKIRCHEN_KREIS, ST_WENDEL_KREIS],
        topics=["vocational-training", "mentoring"], languages=["de", "en"],
        offerings=[],
        contacts=[],
    ),
    # ---- volunteers ----------------------------------------------------------------------
    dict(
        owner="julia.weber", kind="volunteer-initiative",
        name="Integrationslotsen Völklingen", short_name="Lotsen Völklingen",
        description="Ehrenamtliche Lotsinnen und Lotsen begleiten Neuzugewanderte zu Ämtern, Ärzten und "
                    "Schulen und helfen beim Deutschlernen im Alltag.",
        website="https://www.lotsen-voelklingen.example", email="lotsen@lotsen-voelklingen.example",
        phone="089 99998 701", address=_address("Poststraße 1", "66333", "Völklingen"),
        coordinates=_at(49.2525, 6.8600), regions=[VOELKLINGEN, PUETTLINGEN],
        topics=["mentoring", "volunteering", "interpreting"], languages=["de", "ar", "tr", "ru"],
        offerings=[
            _offering("Lotsenschulung",
                      "Vier Abende Einführung für neue Ehrenamtliche: Rollen, Grenzen, Anlaufstellen.",
                      topics=["volunteering"], eligibility="Alle, die sich engagieren möchten."),
        ],
        contacts=[
            _person("Hans-Peter Lang", "Koordinator Ehrenamt", public=True, email="koordination@lotsen-voelklingen.example",
                    phone="089 99998 702"),
        ],
    ),
    dict(
        owner="anna.schmidt", kind="volunteer-initiative",
        name="Willkommensnetz St. Wendeler Land", short_name="Willkommensnetz",
        description="Netzwerk von Ehrenamtlichen in den Dörfern des Landkreises St. Wendel: Patenschaften, "
                    "Fahrdienste, Sprachcafés.",
        website="https://www.willkommensnetz-wnd.example", email="hallo@willkommensnetz-wnd.example",
        phone="089 99998 710", address=_address("Kirchstraße 4", "66636", "Tholey"),
        coordinates=_at(49.4842, 7.0365), regions=[ST_WENDEL_KREIS], topics=["mentoring", "volunteering", "language-courses"],
        languages=["de", "en", "ar", "uk"],
        offerings=[
            _offering("Sprachcafé Tholey", "Jeden Dienstag Deutsch sprechen bei Kaffee und Kuchen.",
                      topics=["language-courses"], regions=[THOLEY]),
        ],
        contacts=[
            _person("Monika Schäfer", "Sprecherin des Netzwerks", public=True, email="m.schaefer@willkommensnetz-wnd.example"),
        ],
    ),
    dict(
        owner="mehmet.yilmaz", kind="volunteer-initiative",
        name="Patenschaftsnetz Merzig-Wadern", short_name="Patenschaftsnetz",
        description="Wir vermitteln Patenschaften zwischen Einheimischen und Geflüchteten – für Ausbildung, "
                    "Wohnungssuche und Freizeit.",
        website="https://www.patenschaftsnetz-mzg.example", email="paten@patenschaftsnetz-mzg.example",
        phone="089 99998 720", address=_address("Schankstraße 2", "66663", "Merzig"),
        coordinates=_at(49.4430, 6.6370), regions=[MERZIG_WADERN], topics=["mentoring", "housing", "volunteering"],
        languages=["de", "en", "fr"],
        offerings=[],
        contacts=[],
    ),
    # ---- business and others -------------------------------------------------------------
    dict(
        owner="julia.weber", kind="business-association",
        name="Unternehmensnetzwerk Integration durch Arbeit Saar e.V.", short_name="Netzwerk Integration durch Arbeit",
        description="Betriebe aus Handwerk, Industrie und Pflege tauschen Erfahrungen mit der Beschäftigung "
                    "Geflüchteter aus und bieten gemeinsam Praktika an.",
        website="https://www.integration-durch-arbeit.example", email="netzwerk@integration-durch-arbeit.example",
        phone="0221 4710 801", address=_address("Franz-Josef-Röder-Straße 17", "66119", "Saarbrücken"),
        coordinates=_at(49.2295, 6.9960), regions=[SAARLAND], topics=["employment", "vocational-training"],
        languages=["de", "en"],
        offerings=[
            _offering("Praktikumsbörse", "Praktikumsplätze in Mitgliedsbetrieben, vermittelt über die Geschäftsstelle.",
                      topics=["employment", "vocational-training"], eligibility="Menschen mit Arbeitserlaubnis."),
        ],
        contacts=[
            _person("Andreas Hoffmann", "Geschäftsführer", public=True, email="a.hoffmann@integration-durch-arbeit.example"),
        ],
    ),
    dict(
        owner="anna.schmidt", kind="other",
        name="Dolmetscherpool Saar", short_name="Dolmetscherpool",
        description="Geschulte Sprach- und Kulturmittlerinnen und -mittler für Beratungsgespräche, Schulen "
                    "und Kliniken; Einsätze vor Ort und per Telefon, landesweit.",
        website="https://www.dolmetscherpool-saar.example", email="einsatz@dolmetscherpool-saar.example",
        phone="0221 4710 810", address=_address("Nauwieser Straße 19", "66111", "Saarbrücken"),
        coordinates=_at(49.2370, 7.0020), regions=[SAARLAND], topics=["interpreting"],
        languages=["ar", "fa", "ps", "ku", "ti", "so", "uk", "ru", "tr", "ro", "bg", "sq", "de"],
        offerings=[
            _offering("Telefondolmetschen", "Innerhalb von 24 Stunden, für Behörden und Beratungsstellen.",
                      topics=["interpreting"], eligibility="Öffentliche Stellen und gemeinnützige Träger im Saarland."),
        ],
        contacts=[
            _person("Farida Nouri", "Einsatzkoordinatorin", public=True, phone="0221 4710 811", languages=["de", "ar", "fr"]),
        ],
    ),
    dict(
        owner="mehmet.yilmaz", kind="other",
        name="Interkultureller Garten Burbach", short_name="Garten Burbach",
        description="Gemeinschaftsgarten, in dem Familien aus zwölf Ländern gärtnern, kochen und Feste feiern.",
        website="https://www.garten-burbach.example", email="garten@garten-burbach.example",
        regions=[SAARBRUECKEN], topics=["family", "volunteering"], languages=["de", "ar", "tr", "so"],
        coordinates=_at(49.2430, 6.9400),
        offerings=[],
        contacts=[],
    ),
]
