"""Shared by the compliance tests: a router on the numpy reference store and the keyword double, with the compliance layer attached."""

from dataclasses import dataclass

from vectorrouter import Router
from vectorrouter.backends import NumpyBackend
from vectorrouter.compliance import Compliance, Database, Keyring, MetadataAllowlist, NamespacePolicy
from vectorrouter.compliance.testing import MemoryKeyword
from vectorrouter.embeddings import EmbeddingService, ModelSpec

SECRET = b"unit-test-secret-of-at-least-32-bytes"
MODELS = [ModelSpec("h32", "hash", 32), ModelSpec("h64", "hash", 64)]


@dataclass
class Setup:
    router: Router
    compliance: Compliance
    keyword: MemoryKeyword


def build(database: Database | str | None = None, **kw: object) -> Setup:
    keyword = MemoryKeyword()
    router = Router(
        embeddings=EmbeddingService(MODELS),
        vector_factory=NumpyBackend,
        keyword=keyword,
        default_model="h32",
    )
    options: dict[str, object] = {
        "keyring": Keyring({"k1": SECRET}),
        "allowlist": MetadataAllowlist({"*": NamespacePolicy({"lang", "title", "topic"})}),
        "database": database,
    }
    options.update(kw)
    compliance = Compliance(**options).attach(router)  # type: ignore[arg-type]
    return Setup(router, compliance, keyword)
