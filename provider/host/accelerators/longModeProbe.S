/*
 * The functional probe: a 512-byte boot sector that goes from real mode to protected mode to
 * 64-bit long mode (PAE paging, EFER.LME via wrmsr, as every modern x86-64 guest kernel does),
 * writes "RPL" to COM1 along the way, then "C" once a 16-byte atomic compare-exchange has
 * written a fresh page (below), and leaves through isa-debug-exit with 0x21, so QEMU exits
 * with status (0x21 << 1) | 1 = 67. A real-mode-only probe passes on hosts where Linux fails.
 * Rebuild: tests/unit/longModeProbe.test.ts assembles this with GNU as and compares bytes.
 */
	.code16
	.globl _start
_start:
	cli
	xor %ax, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %ss
	mov $0x7c00, %sp
	mov $0x3f8, %dx
	mov $'R', %al
	out %al, %dx
	lgdtl gdt_desc - _start + 0x7c00
	mov %cr0, %eax
	or $1, %eax
	mov %eax, %cr0
	ljmpl $0x08, $(pm32 - _start + 0x7c00)

	.code32
pm32:
	mov $0x10, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %ss
	mov $0x3f8, %dx
	mov $'P', %al
	out %al, %dx
	/* Page tables at 0x1000 (PML4), 0x2000 (PDPT), 0x3000 (PD): identity-map 2 MiB. */
	mov $0x1000, %edi
	xor %eax, %eax
	mov $3072, %ecx
	rep stosl
	movl $0x2003, 0x1000
	movl $0x3003, 0x2000
	movl $0x83, 0x3000
	mov %cr4, %eax
	or $(1 << 5), %eax
	mov %eax, %cr4
	mov $0x1000, %eax
	mov %eax, %cr3
	mov $0xC0000080, %ecx
	rdmsr
	or $(1 << 8), %eax
	wrmsr
	mov %cr0, %eax
	or $(1 << 31), %eax
	mov %eax, %cr0
	ljmp $0x18, $(lm64 - _start + 0x7c00)

	.code64
lm64:
	/* 64-bit arithmetic that only long mode computes: 'L' = 0x4c from a 64-bit value. */
	movabs $0x4c00000000, %rax
	shr $32, %rax
	mov $0x3f8, %dx
	out %al, %dx
	/*
	 * What Linux does early and a KVM that emulates in software may not: a 16-byte atomic
	 * compare-exchange (SLUB's freelist update) as the first write to a fresh page. kvm_pvm
	 * (shadow paging) emulates that faulting write and stops with "emulation failure" here.
	 */
	mov $0x180000, %edi
	xor %eax, %eax
	xor %edx, %edx
	mov $'C', %ebx
	xor %ecx, %ecx
	lock cmpxchg16b (%rdi)
	mov (%rdi), %al
	mov $0x3f8, %dx
	out %al, %dx
	mov $'\n', %al
	out %al, %dx
	mov $0xf4, %dx
	mov $0x21, %al
	out %al, %dx
	hlt

	.p2align 3
gdt:
	.quad 0
	.quad 0x00cf9a000000ffff	/* 0x08: 32-bit code */
	.quad 0x00cf92000000ffff	/* 0x10: data */
	.quad 0x00af9a000000ffff	/* 0x18: 64-bit code */
gdt_desc:
	.word gdt_desc - gdt - 1
	.long gdt - _start + 0x7c00

	.org 510
	.word 0xaa55
