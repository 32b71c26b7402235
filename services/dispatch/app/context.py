"""What dispatch's handlers, workers and routes share: the policies and the ETA estimator."""

from dataclasses import dataclass

from schemas.policy import PolicyBook
from services.dispatch.domain.eta import EtaEstimator


@dataclass(frozen=True)
class DispatchContext:
    policies: PolicyBook
    eta: EtaEstimator
