"""Embedding-model migrations: shadow backfill, parity gate, sticky percentage rollout, instant rollback,
quality monitoring and query-side adapters.

>>> from vectorrouter.migration import Schedule, Split
>>> Schedule().steps
(5.0, 25.0, 50.0, 100.0)
"""

from vectorrouter.migration.adapters import (
    ADAPTER_KINDS,
    AffineAdapter,
    ProcrustesAdapter,
    QueryAdapter,
    ResidualMLPAdapter,
    fit_adapter,
    load_adapter,
)
from vectorrouter.migration.backfill import Backfill, BackfillReport
from vectorrouter.migration.controller import Migration, Plan, QualityGate
from vectorrouter.migration.cost import Cost, CostModel, LayerCostModel, Quota, TokenPriceModel
from vectorrouter.migration.fitting import AdapterFit, fit_namespace_adapter, query_sized_pieces
from vectorrouter.migration.parity import ParityResult, check_parity
from vectorrouter.migration.quality import (
    QualityMonitor,
    merge_summaries,
    ndcg_at_k,
    overlap_at_k,
    rank_correlation,
)
from vectorrouter.migration.resolver import MigrationResolver, Route, VersionResolver
from vectorrouter.migration.rollout import ARMS, Arm, Schedule, Split, bucket
from vectorrouter.migration.state import (
    Checkpoint,
    FileStateStore,
    MigrationState,
    RedisStateStore,
    StateStore,
)

__all__ = [
    "ADAPTER_KINDS",
    "ARMS",
    "AdapterFit",
    "AffineAdapter",
    "Arm",
    "Backfill",
    "BackfillReport",
    "Checkpoint",
    "Cost",
    "CostModel",
    "FileStateStore",
    "LayerCostModel",
    "Migration",
    "MigrationResolver",
    "MigrationState",
    "ParityResult",
    "Plan",
    "ProcrustesAdapter",
    "QualityGate",
    "QualityMonitor",
    "QueryAdapter",
    "Quota",
    "RedisStateStore",
    "ResidualMLPAdapter",
    "Route",
    "Schedule",
    "Split",
    "StateStore",
    "TokenPriceModel",
    "VersionResolver",
    "bucket",
    "check_parity",
    "fit_adapter",
    "fit_namespace_adapter",
    "load_adapter",
    "merge_summaries",
    "ndcg_at_k",
    "overlap_at_k",
    "query_sized_pieces",
    "rank_correlation",
]
