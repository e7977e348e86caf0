"""Writes of the labeling core. Each service is ``<entity>_<action>`` with keyword-only arguments."""
from webapp.labeling.services.drafts import draft_delete, draft_save  # noqa: F401
from webapp.labeling.services.flags import flag_resolve, item_flag, item_skip  # noqa: F401
from webapp.labeling.services.items import item_create, project_create, project_update  # noqa: F401
from webapp.labeling.services.lease_ahead import lease_take_ahead  # noqa: F401
from webapp.labeling.services.leases import (  # noqa: F401
    lease_expire_stale, lease_heartbeat, lease_release, lease_take_next,
)
from webapp.labeling.services.loop import (  # noqa: F401
    correction_accepted, item_hold_out, item_repredict, item_repredict_started,
)
from webapp.labeling.services.predictions import (  # noqa: F401
    prediction_record, predictions_import, predictions_mark_stale, predictions_record_batch, predictions_rescore,
)
from webapp.labeling.services.reviews import review_submit  # noqa: F401
from webapp.labeling.services.revisions import revision_submit  # noqa: F401
