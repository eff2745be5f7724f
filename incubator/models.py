"""Every models module, imported once so SQLAlchemy metadata (and Alembic) sees all tables."""
from incubator.accounts import models as accounts_models  # noqa: F401
from incubator.core import audit, states  # noqa: F401
from incubator.orgs import models as orgs_models  # noqa: F401
from incubator.regions import models as regions_models  # noqa: F401
from incubator.applications import models as applications_models  # noqa: F401
from incubator.notifications import models as notifications_models  # noqa: F401
from incubator.calls import models as calls_models  # noqa: F401
from incubator.core import files, jobs, mail, workdays  # noqa: F401
from incubator.screening import models as screening_models  # noqa: F401  (indexes on application)
from incubator.pools import models as pools_models  # noqa: F401
from incubator.review import models as review_models  # noqa: F401
from incubator.review import ranking_models  # noqa: F401  (expert ratings)
from incubator.roadshow import models as roadshow_models  # noqa: F401
from incubator.publicity import models as publicity_models  # noqa: F401
from incubator.projects import models as projects_models  # noqa: F401
from incubator.projects.budgets import models as budgets_models  # noqa: F401
from incubator.projects.contracts import models as contracts_models  # noqa: F401
from incubator.projects.reports import models as reports_models  # noqa: F401
from incubator.projects.evaluations import models as evaluations_models  # noqa: F401
from incubator.projects.exits import models as exits_models  # noqa: F401
