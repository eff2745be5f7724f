import pytest

from incubator.accounts.models import Role
from tests.factories import make_district, make_user


@pytest.fixture()
def staff(db):
    """City staff."""
    return make_user(Role.STAFF)


@pytest.fixture()
def districts(db):
    return make_district(name="甲区", code="410302"), make_district(name="乙区", code="410303")


@pytest.fixture()
def staff_a(db, districts):
    return make_user(Role.STAFF, district=districts[0])


@pytest.fixture()
def staff_b(db, districts):
    return make_user(Role.STAFF, district=districts[1])
