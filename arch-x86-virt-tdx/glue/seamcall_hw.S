/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kapi_u64 kapi_seamcall_hw(kapi_u64 rax, kapi_u64 regs[13])
 *
 * Executes SEAMCALL (66 0F 01 CF) with the 13 ABI registers loaded from regs (rcx, rdx, r8-r15,
 * rbx, rdi, rsi) and stores them back. Returns RAX, the completion status, or a software status:
 * CF=1 (VMfailInvalid) -> TDX_SEAMCALL_VMFAILINVALID; a #GP or #UD on the instruction is caught
 * by the exception table (EX_TYPE_FAULT puts the trap number in RAX) -> TDX_SW_ERROR | trapnr.
 */
#include <linux/linkage.h>
#include <asm/asm.h>
#include <asm/frame.h>

#define TDX_SW_ERROR			0x8000FF0000000000
#define TDX_SEAMCALL_VMFAILINVALID	0x8000FF00FFFF0000

.text

SYM_FUNC_START(kapi_seamcall_hw)
	FRAME_BEGIN
	/* Callee-saved registers the SEAMCALL ABI clobbers. */
	pushq	%rbx
	pushq	%r12
	pushq	%r13
	pushq	%r14
	pushq	%r15
	/* Keep regs for the outputs. */
	pushq	%rsi

	movq	%rdi, %rax
	movq	%rsi, %r11		/* r11 is loaded last from the block */
	movq	0(%r11), %rcx
	movq	8(%r11), %rdx
	movq	16(%r11), %r8
	movq	24(%r11), %r9
	movq	32(%r11), %r10
	movq	48(%r11), %r12
	movq	56(%r11), %r13
	movq	64(%r11), %r14
	movq	72(%r11), %r15
	movq	80(%r11), %rbx
	movq	88(%r11), %rdi
	movq	96(%r11), %rsi
	movq	40(%r11), %r11

.Lseamcall:
	.byte	0x66, 0x0f, 0x01, 0xcf
	jc	.Lvmfailinvalid

.Lstore:
	/* Outputs: rsi first (it is about to be reused as the block pointer). */
	pushq	%rsi
	movq	8(%rsp), %rsi
	movq	%rcx, 0(%rsi)
	movq	%rdx, 8(%rsi)
	movq	%r8, 16(%rsi)
	movq	%r9, 24(%rsi)
	movq	%r10, 32(%rsi)
	movq	%r11, 40(%rsi)
	movq	%r12, 48(%rsi)
	movq	%r13, 56(%rsi)
	movq	%r14, 64(%rsi)
	movq	%r15, 72(%rsi)
	movq	%rbx, 80(%rsi)
	movq	%rdi, 88(%rsi)
	popq	%rcx
	movq	%rcx, 96(%rsi)

.Lout:
	popq	%rsi
	popq	%r15
	popq	%r14
	popq	%r13
	popq	%r12
	popq	%rbx
	FRAME_END
	RET

.Lvmfailinvalid:
	movq	$TDX_SEAMCALL_VMFAILINVALID, %rax
	jmp	.Lstore

.Lfault:
	/* EX_TYPE_FAULT left the trap number in RAX. */
	movq	$TDX_SW_ERROR, %rdi
	orq	%rdi, %rax
	jmp	.Lout

	_ASM_EXTABLE_FAULT(.Lseamcall, .Lfault)
SYM_FUNC_END(kapi_seamcall_hw)
