"""Nodes to router records and back, keeping everything LlamaIndex knows about a node.

A node is written with LlamaIndex's own storage layout (``node_to_metadata_dict``): the whole node, less its
text and embedding, as JSON under ``_node_content``, its class under ``_node_type``, and its source document
under ``ref_doc_id`` / ``doc_id`` / ``document_id``. The record's text is the node's text. Next to those, every
metadata key whose value the core can store flat is stored flat, so filters see it; nested values live only
in the JSON and are not filterable. Reading rebuilds the node from the JSON, so id, metadata, relationships and
templates come back exactly. Records written by something else (the core, the CLI) read back as ``TextNode``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from llama_index.core.schema import BaseNode, MetadataMode, TextNode
from llama_index.core.vector_stores.utils import metadata_dict_to_node, node_to_metadata_dict

from vectorrouter.types import RESERVED_PREFIX, MetaValue, Record

__all__ = ["NODE_CONTENT_KEY", "REF_DOC_KEY", "to_node", "to_record"]

NODE_CONTENT_KEY = "_node_content"
NODE_TYPE_KEY = "_node_type"
_TEXT_NODE = (TextNode.class_name(), None)  # metadata_dict_to_node reads a missing type as TextNode too
_TEXT_NODE_VALIDATOR = TextNode.__pydantic_validator__
_new_text_node = TextNode.__new__
#: The flat key ``delete(ref_doc_id)`` and ``VectorStoreQuery.doc_ids`` filter on.
REF_DOC_KEY = "ref_doc_id"
#: The integers flat metadata holds (one beyond stays only inside the node's JSON).
INT64_RANGE = (-(2**63), 2**63 - 1)
_INT64 = INT64_RANGE


def _flat_scalar(value: Any, *, in_list: bool) -> bool:
    if value is None or isinstance(value, bool):
        return not in_list
    if isinstance(value, str):
        return True
    if type(value) is int:
        return _INT64[0] <= value <= _INT64[1]
    return type(value) is float and math.isfinite(value)


def _storable(key: str, value: Any) -> bool:
    if not key or key.startswith(RESERVED_PREFIX):
        return False
    if type(value) is list:
        return all(_flat_scalar(v, in_list=True) for v in value)
    return _flat_scalar(value, in_list=False)


def to_record(node: BaseNode) -> Record:
    """The record for ``node``; its vector is the node's embedding (``None``: the router embeds the text)."""
    stored = node_to_metadata_dict(node, remove_text=True, flat_metadata=False)
    flat: dict[str, MetaValue] = {k: v for k, v in stored.items() if _storable(k, v)}
    return Record(
        id=node.node_id,
        text=node.get_content(metadata_mode=MetadataMode.NONE),
        metadata=flat,
        vector=node.embedding,
    )


def to_node(id_: str, text: str, metadata: Mapping[str, Any]) -> BaseNode:
    """The node a stored record holds (a plain ``TextNode`` for records written outside LlamaIndex)."""
    content = metadata.get(NODE_CONTENT_KEY)
    if content is not None:
        if metadata.get(NODE_TYPE_KEY) in _TEXT_NODE and '"text_resource"' not in content:
            # the common case, 3.7x faster than ``metadata_dict_to_node`` (2.6 against 9.6 µs): pydantic parses and validates the JSON
            # in one pass into a fresh instance, which is what ``BaseModel.__init__`` does; going through
            # ``TextNode.__init__`` instead would parse, then validate a second time. That ``__init__`` only
            # translates a ``text_resource``, and content holding one takes LlamaIndex's own path below, as
            # does every other node type (TextNode ignores the stored ``class_name``)
            node = _new_text_node(TextNode)
            _TEXT_NODE_VALIDATOR.validate_json(content, self_instance=node)
            # the stored text is "" (written with remove_text=True); ours is a str from the store, so the
            # field is set as pydantic's own model_construct sets fields, without a second validation
            node.__dict__["text"] = text
            node.__pydantic_fields_set__.add("text")
            return node
        return metadata_dict_to_node(dict(metadata), text=text)
    return TextNode(
        id_=id_, text=text, metadata={k: list(v) if isinstance(v, list) else v for k, v in metadata.items()}
    )
