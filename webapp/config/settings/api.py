"""Django REST framework and the OpenAPI schema."""
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # DRF's token authentication, with the user and their roles cached briefly (one Redis read).
        "webapp.accounts.access_cache.CachedTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # Every view declares its action; the table in webapp/accounts/permissions.py decides.
    "DEFAULT_PERMISSION_CLASSES": ["webapp.accounts.permissions.TablePermission"],
    "DEFAULT_PAGINATION_CLASS": "webapp.core.pagination.BoundedLimitOffsetPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "webapp.core.api_errors.exception_handler",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Loupe API",
    "DESCRIPTION": "Labeling and review with models in the loop: projects, work items, leases, revisions, "
                   "reviews, predictions, model versions and training runs.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Serve Swagger UI and ReDoc from the installed sidecar package: no CDN needed.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums",
                             "webapp.core.openapi.add_error_responses"],
    "ENUM_NAME_OVERRIDES": {
        "ItemStateEnum": "webapp.labeling.models.ItemState",
        "TrainingRunStateEnum": "webapp.mlops.models.TrainingRun.State",
        # Three sets of choices named "decision": a review's, a suspect label's re-review, review by risk's.
        "ReviewDecisionEnum": "webapp.labeling.models.Review.Decision",
        "SuspectDecisionEnum": "webapp.labeling.services.suspects.DECISIONS",
        "RoutingDecisionEnum": "webapp.labeling.models.ReviewRouting.Decision",
        "RoutingReasonEnum": "webapp.labeling.models.ReviewRouting.Reason",
        # A flag's reason keeps the name it had before routing reasons came.
        "ReasonEnum": "webapp.labeling.models.Flag.Reason",
        # Operator agreement: a pair's state and a reviewer's decision on a disagreement.
        "AnswerPairStateEnum": "webapp.labeling.models.AnswerPair.State",
        "PairDecisionEnum": "webapp.labeling.services.agreement.DECISIONS",
    },
}
