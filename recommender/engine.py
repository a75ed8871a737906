"""The inference entry point: load a trained model and recommend services for a resident.

INTERFACE (implementation in progress):

    rec = Recommender.load("models/")          # a models root (follows models/CURRENT) or a version folder
    rec.version, rec.trained_at, rec.metrics   # str, ISO str, dict (the model's metrics.json)
    rec.service_ids                            # list[str] of every service in the catalogue
    rec.service(service_id) -> dict | None     # the catalogue row (contract fields) for one service
    rec.resident_profile(resident_id) -> dict | None   # the training-time profile of a known resident
    rec.recommend(
        resident_id: str | None = None,        # a resident the model knows (warm) ...
        profile: dict | None = None,           # ... and/or an inline profile (contract resident fields)
        k: int = 10,
        needs: list[str] | None = None,        # overrides the profile's declared needs
        categories: list[str] | None = None,   # only services in these categories (and descendants)
        exclude_service_ids: list[str] = (),
        near: tuple[float, float, float] | None = None,   # (lat, lon, max_km)
        include_unknown_eligibility: bool = True,
        history: list[tuple[str, str]] = (),   # (service_id, event) recorded after training
        overrides: dict[str, dict] | None = None,   # service_id -> {"status", "capacity"}
        explain: bool = True,
    ) -> RecommendationResult                  # recommender.results
    Raises KeyError for an unknown resident_id with no profile, ValueError for a bad field
    (the message names the field).
"""
