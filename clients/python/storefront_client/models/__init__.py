"""Contains all the data models used in inputs/outputs"""

from .accepted import Accepted
from .account_deletion import AccountDeletion
from .admin_user_update import AdminUserUpdate
from .check_state import CheckState
from .checks import Checks
from .email_token_in import EmailTokenIn
from .field_error import FieldError
from .item_create import ItemCreate
from .item_out import ItemOut
from .item_out_page import ItemOutPage
from .item_update import ItemUpdate
from .liveness import Liveness
from .login_in import LoginIn
from .order_in import OrderIn
from .order_line_in import OrderLineIn
from .order_line_out import OrderLineOut
from .order_out import OrderOut
from .order_out_page import OrderOutPage
from .order_status import OrderStatus
from .password_change import PasswordChange
from .password_reset_confirm import PasswordResetConfirm
from .password_reset_in import PasswordResetIn
from .popular_item import PopularItem
from .popular_item_page import PopularItemPage
from .problem import Problem
from .profile_update import ProfileUpdate
from .readiness import Readiness
from .readiness_state import ReadinessState
from .refresh_in import RefreshIn
from .register_in import RegisterIn
from .role import Role
from .stats_out import StatsOut
from .token_pair import TokenPair
from .user_out import UserOut
from .user_out_page import UserOutPage

__all__ = (
    "Accepted",
    "AccountDeletion",
    "AdminUserUpdate",
    "Checks",
    "CheckState",
    "EmailTokenIn",
    "FieldError",
    "ItemCreate",
    "ItemOut",
    "ItemOutPage",
    "ItemUpdate",
    "Liveness",
    "LoginIn",
    "OrderIn",
    "OrderLineIn",
    "OrderLineOut",
    "OrderOut",
    "OrderOutPage",
    "OrderStatus",
    "PasswordChange",
    "PasswordResetConfirm",
    "PasswordResetIn",
    "PopularItem",
    "PopularItemPage",
    "Problem",
    "ProfileUpdate",
    "Readiness",
    "ReadinessState",
    "RefreshIn",
    "RegisterIn",
    "Role",
    "StatsOut",
    "TokenPair",
    "UserOut",
    "UserOutPage",
)
