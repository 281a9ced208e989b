package dbg
import ("testing";"os";"fmt";"pbftlab/lab/script";"pbftlab/lab/sim";"pbftlab/solution")
func TestX(t *testing.T){
 b,_:=os.ReadFile(os.Getenv("CASEF")); c,err:=script.Parse("x",string(b)); if err!=nil{t.Fatal(err)}
 s,f,err:=sim.RunCase(c,solution.New,sim.Options{Seed:1,Duplicate:0.2})
 fmt.Println(s.Trace().Transcript(true)); fmt.Println("ERR",err); for _,x:=range f{fmt.Println("F",x)}
}
