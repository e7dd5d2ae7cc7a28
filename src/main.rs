fn main() {
    println!("evpnd: under construction");
}
