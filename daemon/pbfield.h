/*
 * pbfield: what the code knows about protobuf-c's C layout of a field, in
 * one place: the size of a value, whether a field is present (by the rules
 * protobuf-c's packer uses), how many values it has, and clearing it. Used
 * by the JSON codec, the projection, the validator and the client's
 * printing. Pure.
 */
#ifndef VACANCY_PBFIELD_H
#define VACANCY_PBFIELD_H

#include <stddef.h>

#include <protobuf-c/protobuf-c.h>

enum pbfield_quant {
	PBFIELD_NONE,  /* required, or proto3 without presence: no quantifier */
	PBFIELD_HAS,   /* protobuf_c_boolean has_* */
	PBFIELD_CASE,  /* uint32_t *_case of a oneof, holding the set member's id */
	PBFIELD_COUNT, /* size_t n_* of a repeated field */
};

/* The kind of quantifier of f, as protobuf-c's packer classifies it. */
enum pbfield_quant pbfield_quant(const ProtobufCFieldDescriptor *f);
/* Size of one value of type t in a message or a repeated array. */
size_t pbfield_size(ProtobufCType t);
/* 1 when field f of msg is present, by the rules of protobuf-c's packer. */
int pbfield_present(const ProtobufCMessage *msg, const ProtobufCFieldDescriptor *f);
/* How many values f has in msg: 0 or 1 when singular, n when repeated. */
size_t pbfield_count(const ProtobufCMessage *msg, const ProtobufCFieldDescriptor *f);
/* Clears field f of msg (allocated with alloc): absent afterwards. */
void pbfield_clear(ProtobufCMessage *msg, const ProtobufCFieldDescriptor *f,
		   ProtobufCAllocator *alloc);

#endif
